// Published<T>: an immutable object shared with worker threads. The writer
// swaps the pointer and bumps a version; each reader keeps its own reference
// and re-reads the pointer only when the version moved, so the query path
// costs one atomic load and takes no lock. (The pointer itself sits behind a
// mutex touched only on publish and on a reader's refresh: libstdc++ 12's
// atomic<shared_ptr> uses a lock bit ThreadSanitizer cannot see.)
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>

#include "base/thread_annotations.h"

namespace ddns::net {

template <class T>
class Published {
 public:
  explicit Published(std::shared_ptr<const T> initial) : ptr_(std::move(initial)) {}
  Published(const Published&) = delete;
  Published& operator=(const Published&) = delete;

  // Makes `next` the current object. Readers pick it up at their next get();
  // the old object is freed when the last reader drops it.
  void publish(std::shared_ptr<const T> next) {
    std::shared_ptr<const T> old;
    {
      MutexLock lock(mu_);
      old = std::exchange(ptr_, std::move(next));
      // Bumped after the swap: a reader that sees the new version also gets
      // the new pointer (or a newer one).
      version_.fetch_add(1, std::memory_order_release);
    }
    // `old` is released here, outside the lock (it may be the last reference).
  }
  std::shared_ptr<const T> load() const {
    MutexLock lock(mu_);
    return ptr_;
  }
  uint64_t version() const { return version_.load(std::memory_order_acquire); }

  // One per thread; not shared.
  class Reader {
   public:
    explicit Reader(const Published& p) : p_(&p) { refresh(p_->version()); }
    // The current object; valid until the next get() on this reader.
    const T& get() {
      uint64_t v = p_->version();
      if (v != seen_) refresh(v);
      return *cur_;
    }
    const std::shared_ptr<const T>& shared() {
      get();
      return cur_;
    }

   private:
    void refresh(uint64_t v) {
      seen_ = v;
      auto next = p_->load();
      cur_.swap(next);  // the previous snapshot may be freed here, by this reader
    }
    const Published* p_;
    uint64_t seen_ = 0;
    std::shared_ptr<const T> cur_;
  };

 private:
  mutable Mutex mu_;
  std::shared_ptr<const T> ptr_ GUARDED_BY(mu_);
  std::atomic<uint64_t> version_{0};
};

}  // namespace ddns::net
