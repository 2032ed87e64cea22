// Locking rules the compiler checks: Clang's thread-safety attributes
// (GUARDED_BY, REQUIRES, ...) and a Mutex that carries them, since
// libstdc++'s std::mutex has none. Clang builds with -Wthread-safety (CI:
// the fuzz build), GCC sees plain code.
#pragma once

#include <condition_variable>
#include <mutex>
#include <shared_mutex>

#if defined(__clang__)
#define DDNS_THREAD_ATTR(x) __attribute__((x))
#else
#define DDNS_THREAD_ATTR(x)
#endif

#define CAPABILITY(x) DDNS_THREAD_ATTR(capability(x))
#define SCOPED_CAPABILITY DDNS_THREAD_ATTR(scoped_lockable)
#define GUARDED_BY(x) DDNS_THREAD_ATTR(guarded_by(x))
#define PT_GUARDED_BY(x) DDNS_THREAD_ATTR(pt_guarded_by(x))
#define ACQUIRED_BEFORE(...) DDNS_THREAD_ATTR(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) DDNS_THREAD_ATTR(acquired_after(__VA_ARGS__))
#define REQUIRES(...) DDNS_THREAD_ATTR(requires_capability(__VA_ARGS__))
#define ACQUIRE(...) DDNS_THREAD_ATTR(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) DDNS_THREAD_ATTR(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) DDNS_THREAD_ATTR(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) DDNS_THREAD_ATTR(release_shared_capability(__VA_ARGS__))
#define RELEASE_GENERIC(...) DDNS_THREAD_ATTR(release_generic_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) DDNS_THREAD_ATTR(try_acquire_capability(__VA_ARGS__))
#define EXCLUDES(...) DDNS_THREAD_ATTR(locks_excluded(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) DDNS_THREAD_ATTR(assert_capability(x))
#define RETURN_CAPABILITY(x) DDNS_THREAD_ATTR(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS DDNS_THREAD_ATTR(no_thread_safety_analysis)

namespace ddns {

// std::mutex with the capability attributes. Lock it with MutexLock.
class CAPABILITY("mutex") Mutex {
 public:
  void lock() ACQUIRE() { m_.lock(); }
  void unlock() RELEASE() { m_.unlock(); }
  bool try_lock() TRY_ACQUIRE(true) { return m_.try_lock(); }

 private:
  friend class MutexLock;
  std::mutex m_;
};

// Holds a Mutex for its scope (std::unique_lock underneath, so a
// std::condition_variable can wait on it). The analysis does not follow a
// wait's predicate lambda: wait in a loop in the locked scope instead,
// `while (!ready_) lock.wait(cv_);`.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : lock_(mu.m_) {}
  ~MutexLock() RELEASE() {}
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  // Releases the mutex before the end of the scope.
  void unlock() RELEASE() { lock_.unlock(); }

  // Releases the mutex while blocked, holds it again on return.
  void wait(std::condition_variable& cv) { cv.wait(lock_); }
  template <class Clock, class Duration>
  std::cv_status wait_until(std::condition_variable& cv,
                            const std::chrono::time_point<Clock, Duration>& t) {
    return cv.wait_until(lock_, t);
  }
  template <class Rep, class Period>
  std::cv_status wait_for(std::condition_variable& cv, const std::chrono::duration<Rep, Period>& d) {
    return cv.wait_for(lock_, d);
  }

 private:
  std::unique_lock<std::mutex> lock_;
};

// std::shared_mutex with the capability attributes: many readers
// (ReaderLock) or one writer (WriterLock).
class CAPABILITY("mutex") SharedMutex {
 public:
  void lock() ACQUIRE() { m_.lock(); }
  void unlock() RELEASE() { m_.unlock(); }
  void lock_shared() ACQUIRE_SHARED() { m_.lock_shared(); }
  void unlock_shared() RELEASE_SHARED() { m_.unlock_shared(); }

 private:
  std::shared_mutex m_;
};

class SCOPED_CAPABILITY ReaderLock {
 public:
  explicit ReaderLock(SharedMutex& mu) ACQUIRE_SHARED(mu) : mu_(mu) { mu_.lock_shared(); }
  ~ReaderLock() RELEASE() { mu_.unlock_shared(); }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

 private:
  SharedMutex& mu_;
};

class SCOPED_CAPABILITY WriterLock {
 public:
  explicit WriterLock(SharedMutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~WriterLock() RELEASE() { mu_.unlock(); }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  SharedMutex& mu_;
};

}  // namespace ddns
