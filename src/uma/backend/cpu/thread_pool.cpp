#include "uma/backend/cpu/thread_pool.h"

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

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
    for (int i = 1; i < n; ++i) workers_.emplace_back([this, i, gen] { loop(i, gen); });
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
      remaining_ = threads - 1;
      error_ = nullptr;
      ++generation_;
    }
    cv_.notify_all();
    t_inside_ = true;
    std::exception_ptr mine;
    try {
      run_part(0);
    } catch (...) {
      mine = std::current_exception();
    }
    t_inside_ = false;
    std::unique_lock lock(mutex_);
    done_cv_.wait(lock, [&] { return remaining_ == 0; });
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
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        if (index >= parts_) continue;
      }
      std::exception_ptr err;
      try {
        run_part(index);
      } catch (...) {
        err = std::current_exception();
      }
      std::lock_guard lock(mutex_);
      if (err && !error_) error_ = err;
      if (--remaining_ == 0) done_cv_.notify_one();
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

  static thread_local bool t_inside_;
  std::mutex job_mutex_;
  std::mutex mutex_;
  std::condition_variable cv_, done_cv_;
  std::vector<std::thread> workers_;
  const std::function<void(size_t, size_t)>* fn_ = nullptr;
  size_t n_ = 0;
  int parts_ = 0;
  int remaining_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

thread_local bool ThreadPool::t_inside_ = false;

int default_threads() {
  if (const char* env = std::getenv("UMA_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc ? int(hc) : 1;
}

ThreadPool& pool() {
  static ThreadPool* p = new ThreadPool(default_threads());
  return *p;
}

}  // namespace

int num_threads() { return pool().size(); }

void set_num_threads(int n) {
  if (n < 1) throw std::invalid_argument("[set_num_threads] need at least 1 thread, got " + std::to_string(n));
  pool().resize(n);
}

void parallel_for(size_t n, size_t grain, const std::function<void(size_t, size_t)>& fn) {
  pool().run(n, grain ? grain : 1, fn);
}

}  // namespace uma::cpu
