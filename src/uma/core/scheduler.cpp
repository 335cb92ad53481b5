#include "uma/core/scheduler.h"

#include "uma/core/gpu.h"

#include <deque>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace uma {

void Event::wait() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return done_; });
  if (error_) std::rethrow_exception(error_);
}

void Event::signal(std::exception_ptr error) {
  {
    std::lock_guard lock(mutex_);
    done_ = true;
    error_ = error;
  }
  cv_.notify_all();
}

bool Event::done() {
  std::lock_guard lock(mutex_);
  return done_;
}

namespace {

thread_local bool t_in_worker = false;

class StreamWorker {
 public:
  StreamWorker() : thread_([this] { loop(); }) { thread_.detach(); }

  void enqueue(std::function<void()> task) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(task));
    }
    cv_.notify_one();
  }

 private:
  void loop() {
    t_in_worker = true;
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return !queue_.empty(); });
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();  // tasks report their own errors through their events
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::thread thread_;
};

struct Streams {
  std::mutex mutex;
  std::vector<Stream> streams;
  std::vector<std::unique_ptr<StreamWorker>> workers;  // never destroyed (see instance())
  Device default_device{Device::cpu, 0};
  Stream default_cpu{0, Device{Device::cpu, 0}};
  std::vector<Stream> default_gpu;  // per GPU, made on first use
  std::vector<bool> has_default_gpu;

  // Caller holds mutex.
  Stream add_locked(Device d) {
    Stream s{int(streams.size()), d};
    streams.push_back(s);
    workers.push_back(std::make_unique<StreamWorker>());
    return s;
  }
  Stream add(Device d) {
    std::lock_guard lock(mutex);
    return add_locked(d);
  }
};

Streams& streams() {
  static Streams* s = [] {
    auto* p = new Streams();
    p->default_cpu = p->add(Device{Device::cpu, 0});
    return p;
  }();
  return *s;
}

void check_device(const Device& d, const char* who) {
  if (d.type == Device::cpu) {
    if (d.index != 0) throw std::invalid_argument(std::string("[") + who + "] there is one CPU device, index 0");
    return;
  }
  int n = detail::gpu_count();
  if (n == 0) {
    throw std::invalid_argument(std::string("[") + who +
                                "] no GPU: this build has no GPU backend, or the machine no usable CUDA device");
  }
  if (d.index < 0 || d.index >= n) {
    throw std::invalid_argument(std::string("[") + who + "] GPU " + std::to_string(d.index) + " does not exist (" +
                                std::to_string(n) + " found)");
  }
}

}  // namespace

namespace scheduler {
void enqueue(Stream s, std::function<void()> task) {
  auto& st = streams();
  StreamWorker* w;
  {
    std::lock_guard lock(st.mutex);
    if (s.index < 0 || s.index >= int(st.workers.size())) {
      throw std::invalid_argument("[scheduler] unknown stream " + std::to_string(s.index));
    }
    w = st.workers[s.index].get();
  }
  w->enqueue(std::move(task));
}
bool in_worker() { return t_in_worker; }
}  // namespace scheduler

Device default_device() {
  std::lock_guard lock(streams().mutex);
  return streams().default_device;
}

bool is_available(const Device& d) {
  if (d.type == Device::cpu) return d.index == 0;
  return d.index >= 0 && d.index < detail::gpu_count();
}

void set_default_device(const Device& d) {
  check_device(d, "set_default_device");
  std::lock_guard lock(streams().mutex);
  streams().default_device = d;
}

Stream default_stream(Device d) {
  check_device(d, "default_stream");
  auto& st = streams();
  std::lock_guard lock(st.mutex);
  if (d.type == Device::cpu) return st.default_cpu;
  if (st.default_gpu.size() <= size_t(d.index)) {
    st.default_gpu.resize(d.index + 1);
    st.has_default_gpu.resize(d.index + 1, false);
  }
  if (!st.has_default_gpu[d.index]) {
    st.default_gpu[d.index] = st.add_locked(d);
    st.has_default_gpu[d.index] = true;
  }
  return st.default_gpu[d.index];
}

void set_default_stream(Stream s) {
  check_device(s.device, "set_default_stream");
  auto& st = streams();
  std::lock_guard lock(st.mutex);
  if (s.index < 0 || s.index >= int(st.streams.size()) || !(st.streams[s.index] == s)) {
    throw std::invalid_argument("[set_default_stream] unknown stream " + std::to_string(s.index));
  }
  if (s.device.type == Device::cpu) {
    st.default_cpu = s;
  } else {
    if (st.default_gpu.size() <= size_t(s.device.index)) {
      st.default_gpu.resize(s.device.index + 1);
      st.has_default_gpu.resize(s.device.index + 1, false);
    }
    st.default_gpu[s.device.index] = s;
    st.has_default_gpu[s.device.index] = true;
  }
}

Stream new_stream(Device d) {
  check_device(d, "new_stream");
  return streams().add(d);
}

Stream to_stream(StreamOrDevice s) {
  if (auto* st = std::get_if<Stream>(&s)) return *st;
  if (auto* d = std::get_if<Device>(&s)) return default_stream(*d);
  return default_stream(default_device());
}

void synchronize(Stream s) {
  if (scheduler::in_worker()) return;
  auto e = std::make_shared<Event>();
  scheduler::enqueue(s, [e, s] {
    try {
      if (s.device.type == Device::gpu) detail::gpu_synchronize(s);
      e->signal();
    } catch (...) {
      e->signal(std::current_exception());
    }
  });
  e->wait();
}

void synchronize() { synchronize(default_stream(default_device())); }

}  // namespace uma
