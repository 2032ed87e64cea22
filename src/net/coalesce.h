// When a UDP worker should pause before its next recvmmsg so that the
// batch it then takes is larger (receive coalescing, as a network card's
// interrupt moderation). One per worker thread; no I/O, no clock of its own:
// the worker passes the time, so the policy is tested with a simulated one.
#pragma once

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
// When to pause: only while it pays.
// - The arrival rate, measured over windows of kWindowNs, must bring at
//   least kMinPerPause queries per pause: a light load never pauses, and a
//   worker that sat idle sees a low rate at once.
// - A batch of kSmallBatch or more already amortises its system calls.
// - A closed loop (a client that sends its next query only when an answer
//   comes back) is slowed by every pause instead. Two signs of one:
//   * the pauses of a window gathered fewer than kMinPerPause queries each
//     (judged over kJudgeAfter of them; arrivals come in bursts): no more
//     pauses in this window;
//   * a window with pauses received less than 75% of the rate of the last
//     window without (pauses cut a closed loop's rate by far more, and an
//     open load's rate wanders by less): pausing is holding the clients
//     back, so none for kHoldWindows. Every kProbeEvery-th window is left
//     without pauses to keep that rate current.
class Coalescer {
 public:
  static constexpr size_t kSmallBatch = 8;
  static constexpr uint64_t kMinPerPause = 4;
  static constexpr uint64_t kWindowNs = 10'000'000;
  static constexpr uint64_t kJudgeAfter = 3;
  static constexpr unsigned kHoldWindows = 64;
  static constexpr unsigned kProbeEvery = 16;

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
    if (!loaded_ || window_off_ || n >= kSmallBatch) return false;
    paused_ = true;
    ++window_pauses_;
    return true;
  }

 private:
  void end_window(uint64_t now_ns) {
    const uint64_t elapsed = now_ns - window_start_;
    const uint64_t rate = queries_ * 1'000'000'000u / elapsed;  // queries per second
    // rate * pause >= kMinPerPause
    bool pause_next = rate * pause_us_ >= kMinPerPause * 1'000'000u;
    if (window_pauses_ == 0) {
      free_rate_ = rate;
    } else if (free_rate_ && rate * 4 < free_rate_ * 3) {
      hold_ = kHoldWindows;
    } else if (++paused_windows_ % kProbeEvery == 0) {
      pause_next = false;  // a probe: measure the rate without pauses
    }
    if (hold_) {
      --hold_;
      pause_next = false;
    }
    loaded_ = pause_next;
    window_start_ = now_ns;
    queries_ = gathered_ = window_pauses_ = 0;
    window_off_ = false;
  }

  uint32_t pause_us_;
  uint64_t window_start_ = 0, queries_ = 0, window_pauses_ = 0, gathered_ = 0;
  uint64_t free_rate_ = 0;  // queries per second in the last window without pauses
  unsigned paused_windows_ = 0, hold_ = 0;
  bool loaded_ = false, paused_ = false, window_off_ = false;
};

}  // namespace ddns::net
