// When a UDP worker should pause before its next recvmmsg so that the
// batch it then takes is larger (receive coalescing, as a network card's
// interrupt moderation). One per worker thread; no I/O, no clock of its own:
// the worker passes the time, so the policy is tested with a simulated one.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace ddns::net {

// Why pause at all: below a few queries per batch, each query costs about
// one system call of its own plus a wake-up of its client (on this class of
// VM a system call alone is ~1 us, more than making the answer). Waiting a
// little before the next recvmmsg lets the queue fill. The replies already
// made are sent before the pause, so only queries arriving during it wait,
// and at most the pause.
//
// A pause is latency, so it is taken only where it is shown to raise the
// rate the clients get, that is where the clients, not the server, are the
// limit: a client busy on its own CPU (a load generator, a busy resolver)
// spends less per answer when answers come in bursts, and sends more.
// - An open load (clients that send at their own pace) gets nothing from a
//   pause but the wait: its rate is the same with pauses or without.
// - A closed loop with few queries in flight is slowed by every pause.
// The rule, in rate windows of kWindowNs:
// - The rate must bring at least kMinPerPause queries per pause (a light
//   load never pauses), and a batch of kSmallBatch or more already
//   amortises its system calls.
// - Each epoch measures kFreeWindows windows without pauses, then windows
//   with pauses (kTrialWindows on trial, kPausedWindows once pausing has
//   paid), and compares the two rates. Pausing pays when the paused rate
//   is at least 1/16 higher, in kTrialPasses trials running (one can be
//   luck: a worker still warming up, or a stall of the VM, moves queries
//   from one window into the next). Otherwise no pauses for a hold that
//   doubles with each failed trial, from kHoldMin to kHoldMax windows, so a
//   load that never gains spends under 1% of its time on trial.
// - Within a window, pauses that gathered fewer than kMinPerPause queries
//   each (judged over kJudgeAfter of them) stop for the rest of the window:
//   a closed loop on trial is not held back for long.
class Coalescer {
 public:
  static constexpr size_t kSmallBatch = 8;
  static constexpr uint64_t kMinPerPause = 4;
  static constexpr uint64_t kWindowNs = 10'000'000;
  static constexpr uint64_t kJudgeAfter = 3;
  static constexpr unsigned kFreeWindows = 2;
  static constexpr unsigned kTrialWindows = 1;
  static constexpr unsigned kTrialPasses = 2;
  static constexpr unsigned kPausedWindows = 30;
  static constexpr unsigned kHoldMin = 128;   // 1.28 s
  static constexpr unsigned kHoldMax = 8192;  // 82 s

  explicit Coalescer(uint32_t pause_us = 0) : pause_us_(pause_us) {}
  uint32_t pause_us() const { return pause_us_; }

  // After a batch of n queries was received and answered, at `now_ns`
  // (any monotonic clock): true = pause pause_us() before the next receive.
  bool after_batch(size_t n, uint64_t now_ns) {
    if (pause_us_ == 0) return false;
    if (paused_) {
      paused_ = false;
      gathered_ += n;
      if (window_pauses_ >= kJudgeAfter && gathered_ < kMinPerPause * window_pauses_)
        window_off_ = true;
    }
    queries_ += n;
    if (now_ns - window_start_ >= kWindowNs) end_window(now_ns);
    if (!pausing_ || window_off_ || n >= kSmallBatch) return false;
    paused_ = true;
    ++window_pauses_;
    return true;
  }

 private:
  void end_window(uint64_t now_ns) {
    const uint64_t elapsed = now_ns - window_start_;
    // queries_ / elapsed * pause >= kMinPerPause
    const bool loaded = queries_ * pause_us_ * 1000u >= kMinPerPause * elapsed;
    if (hold_) {
      --hold_;
      restart_epoch();
    } else if (!pausing_) {
      if (!loaded) {
        restart_epoch();
        passes_ = 0;  // a new load is tried afresh
      } else {
        free_q_ += queries_;
        free_ns_ += elapsed;
        if (++windows_ == kFreeWindows) {
          pausing_ = true;
          windows_ = 0;
        }
      }
    } else {
      // A paused window counts even when its rate fell under `loaded`
      // (that may be what pausing did to the clients), and then the epoch
      // is judged at once: a light load is not paused for long.
      paused_q_ += queries_;
      paused_ns_ += elapsed;
      if (!loaded || ++windows_ == (paid() ? kPausedWindows : kTrialWindows)) judge();
    }
    window_start_ = now_ns;
    queries_ = gathered_ = window_pauses_ = 0;
    window_off_ = false;
  }

  void judge() {
    // paused rate >= free rate * 17/16 (in double: a window after a long
    // idle spell can measure hours)
    const bool gain =
        double(paused_q_) * double(free_ns_) * 16 >= double(free_q_) * double(paused_ns_) * 17;
    if (!gain) {
      passes_ = 0;
      hold_ = hold_len_;
      hold_len_ = std::min(hold_len_ * 2, kHoldMax);
    } else {
      passes_ = std::min(passes_ + 1, kTrialPasses);
      if (paid()) hold_len_ = kHoldMin;
    }
    restart_epoch();
  }

  // Pausing has paid in kTrialPasses trials running, and still pays.
  bool paid() const { return passes_ == kTrialPasses; }

  void restart_epoch() {
    pausing_ = false;
    windows_ = 0;
    free_q_ = free_ns_ = paused_q_ = paused_ns_ = 0;
  }

  uint32_t pause_us_;
  uint64_t window_start_ = 0, queries_ = 0, window_pauses_ = 0, gathered_ = 0;
  uint64_t free_q_ = 0, free_ns_ = 0, paused_q_ = 0, paused_ns_ = 0;  // this epoch
  unsigned windows_ = 0;  // of this epoch's current part
  unsigned hold_ = 0, hold_len_ = kHoldMin, passes_ = 0;  // passes_: judgements passed in a row, at most kTrialPasses
  bool pausing_ = false, paused_ = false, window_off_ = false;
};

}  // namespace ddns::net
