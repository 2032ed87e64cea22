// Tests for the annotated Mutex/MutexLock/SharedMutex: they exclude, wait
// and release like the std types they wrap.
#include "base/thread_annotations.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace ddns {
namespace {

struct Counter {
  Mutex mu;
  std::condition_variable cv;
  int n GUARDED_BY(mu) = 0;
};

TEST(ThreadAnnotations, MutexLockExcludesOtherThreads) {
  Counter c;
  auto add = [&c] {
    for (int i = 0; i < 10000; ++i) {
      MutexLock lock(c.mu);
      c.n++;
    }
  };
  std::thread a(add), b(add);
  a.join();
  b.join();
  MutexLock lock(c.mu);
  EXPECT_EQ(c.n, 20000);
}

TEST(ThreadAnnotations, WaitReleasesTheMutexUntilNotified) {
  Counter c;
  std::thread t([&c] {
    MutexLock lock(c.mu);  // blocks unless the waiter released it
    c.n = 1;
    c.cv.notify_all();
  });
  {
    MutexLock lock(c.mu);
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (c.n == 0)
      if (lock.wait_until(c.cv, until) == std::cv_status::timeout) break;
    EXPECT_EQ(c.n, 1);
  }
  t.join();
}

// True when another thread can take `mu` right now.
bool free_elsewhere(Mutex& mu) {
  bool got = false;
  std::thread t([&] {
    if (mu.try_lock()) {
      got = true;
      mu.unlock();
    }
  });
  t.join();
  return got;
}

TEST(ThreadAnnotations, WaitForTimesOutWithTheMutexHeldAndUnlockReleases) {
  Counter c;
  MutexLock lock(c.mu);
  EXPECT_EQ(lock.wait_for(c.cv, std::chrono::milliseconds(1)), std::cv_status::timeout);
  EXPECT_FALSE(free_elsewhere(c.mu));
  lock.unlock();
  EXPECT_TRUE(free_elsewhere(c.mu));
}

struct Shared {
  SharedMutex mu;
  int v GUARDED_BY(mu) = 0;
};

TEST(ThreadAnnotations, SharedMutexAdmitsReadersTogether) {
  Shared s;
  {
    WriterLock w(s.mu);
    s.v = 7;
  }
  ReaderLock r1(s.mu);
  std::thread t([&s] {
    ReaderLock r2(s.mu);  // a second reader gets in while r1 is held
    EXPECT_EQ(s.v, 7);
  });
  t.join();
  EXPECT_EQ(s.v, 7);
}

}  // namespace
}  // namespace ddns
