#include "uma/backend/cpu/thread_pool.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "uma/core/device.h"
#include "uma/core/parallel.h"

namespace uma::cpu {

namespace {

// A fork-join pool: one job at a time (parallel_for from a second thread while
// a job runs, or from inside a job, runs serially on the caller).
class ThreadPool {
 public:
  explicit ThreadPool(int n) { resize(n); }

  int size() const { return int(workers_.size()) + 1; }

  void resize(int n) {
    std::lock_guard job_lock(job_mutex_);
    stop_workers();
    stop_ = false;
    // New workers must not mistake the last finished job for a new one.
    uint64_t gen = generation_;
    for (int i = 1; i < n; ++i) {
      try {
        workers_.emplace_back([this, i, gen] { loop(i, gen); });
      } catch (const std::exception& e) {
        // Out of threads (RLIMIT_NPROC, memory for stacks): run with the ones
        // we have rather than abort; say so once.
        std::fprintf(stderr,
                     "uma: warning: could start only %d of %d threads (%s); continuing with %d\n",
                     i, n, e.what(), i);
        break;
      }
    }
  }

  void run(size_t n, size_t grain, const std::function<void(size_t, size_t)>& fn) {
    if (n == 0) return;
    size_t max_chunks = (n + grain - 1) / grain;
    std::unique_lock job_lock(job_mutex_, std::try_to_lock);
    int threads = int(std::min<size_t>(max_chunks, size_t(size())));
    if (!job_lock.owns_lock() || threads <= 1 || t_inside_) {
      fn(0, n);
      return;
    }
    {
      std::lock_guard lock(mutex_);
      fn_ = &fn;
      n_ = n;
      parts_ = threads;
      remaining_.store(threads - 1, std::memory_order_relaxed);
      error_ = nullptr;
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();  // cheap when every worker is still spinning
    t_inside_ = true;
    std::exception_ptr mine;
    try {
      run_part(0);
    } catch (...) {
      mine = std::current_exception();
    }
    t_inside_ = false;
    spin_until([&] { return remaining_.load(std::memory_order_acquire) == 0; });
    std::unique_lock lock(mutex_);
    done_cv_.wait(lock, [&] { return remaining_.load(std::memory_order_acquire) == 0; });
    fn_ = nullptr;
    if (mine) std::rethrow_exception(mine);
    if (error_) std::rethrow_exception(error_);
  }

  ~ThreadPool() = delete;  // lives for the whole program

 private:
  void run_part(int part) {
    if (part >= parts_) return;
    size_t begin = n_ * size_t(part) / size_t(parts_);
    size_t end = n_ * size_t(part + 1) / size_t(parts_);
    if (begin < end) (*fn_)(begin, end);
  }

  void loop(int index, uint64_t seen) {
    t_inside_ = true;
    for (;;) {
      spin_until([&] { return generation_.load(std::memory_order_acquire) != seen; });
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return stop_ || generation_.load(std::memory_order_relaxed) != seen; });
        if (stop_) return;
        seen = generation_.load(std::memory_order_relaxed);
        if (index >= parts_) continue;
      }
      std::exception_ptr err;
      try {
        run_part(index);
      } catch (...) {
        err = std::current_exception();
      }
      if (err) {
        std::lock_guard lock(mutex_);
        if (!error_) error_ = err;
      }
      if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        // Under the mutex, so a caller that has just found remaining_ > 0
        // is already waiting when the notification comes.
        std::lock_guard lock(mutex_);
        done_cv_.notify_one();
      }
    }
  }

  void stop_workers() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  // Waits for `done` by spinning, for at most UMA_SPIN_US microseconds
  // (default 500; 0 never spins), before the caller blocks on its condition
  // variable: a decode step runs hundreds of short parallel loops, and a
  // worker that sleeps between them pays a futex wake-up each time and may
  // be woken on its waker's core, where the two halves of a loop then run
  // one after the other.
  template <typename Pred>
  static void spin_until(Pred done) {
    static const std::chrono::microseconds spin{[] {
      const char* env = std::getenv("UMA_SPIN_US");
      return env ? std::max(0, std::atoi(env)) : 500;
    }()};
    if (spin.count() == 0) return;
    auto start = std::chrono::steady_clock::now();
    for (int i = 1; !done(); ++i) {
      _mm_pause();
      if (i % 256 == 0 && std::chrono::steady_clock::now() - start > spin) return;
    }
  }

  static thread_local bool t_inside_;
  std::mutex job_mutex_;
  std::mutex mutex_;
  std::condition_variable cv_, done_cv_;
  std::vector<std::thread> workers_;
  const std::function<void(size_t, size_t)>* fn_ = nullptr;
  size_t n_ = 0;
  int parts_ = 0;
  std::atomic<int> remaining_{0};
  std::atomic<uint64_t> generation_{0};
  bool stop_ = false;
  std::exception_ptr error_;
};

thread_local bool ThreadPool::t_inside_ = false;

// UMA_NUM_THREADS must be an integer in 1..kMaxThreads. Anything else
// (garbage, 0, negative, absurd) is not fatal, since the variable may be set
// for other programs too: one warning on stderr, then the default (the
// machine's cores).
constexpr long kMaxThreads = 1024;

int default_threads() {
  unsigned hc = std::thread::hardware_concurrency();
  int dflt = hc ? int(hc) : 1;
  const char* env = std::getenv("UMA_NUM_THREADS");
  if (!env || !*env) return dflt;
  errno = 0;
  char* end = nullptr;
  long n = std::strtol(env, &end, 10);
  while (end && (*end == ' ' || *end == '\t' || *end == '\n')) ++end;
  if (errno == 0 && end && *end == '\0' && n >= 1 && n <= kMaxThreads) return int(n);
  std::fprintf(
      stderr,
      "uma: warning: UMA_NUM_THREADS='%.40s' is not an integer in 1..%ld; using %d threads\n", env,
      kMaxThreads, dflt);
  return dflt;
}

ThreadPool& pool() {
  static ThreadPool* p = new ThreadPool(default_threads());
  return *p;
}

}  // namespace

int num_threads() { return pool().size(); }

void set_num_threads(int n) {
  if (n < 1 || n > kMaxThreads) {
    throw std::invalid_argument("[set_num_threads] need 1.." + std::to_string(kMaxThreads) +
                                " threads, got " + std::to_string(n));
  }
  pool().resize(n);
}

void parallel_for(size_t n, size_t grain, const std::function<void(size_t, size_t)>& fn) {
  pool().run(n, grain ? grain : 1, fn);
}

}  // namespace uma::cpu

namespace uma {

int cpu_threads() { return cpu::num_threads(); }
void set_cpu_threads(int n) { cpu::set_num_threads(n); }
void cpu_parallel_for(size_t n, size_t grain, const std::function<void(size_t, size_t)>& fn) {
  cpu::parallel_for(n, grain, fn);
}

}  // namespace uma
