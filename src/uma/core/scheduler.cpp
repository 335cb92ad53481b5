#include "uma/core/scheduler.h"

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
  bool has_default_cpu = false;

  Stream add(Device d) {
    std::lock_guard lock(mutex);
    Stream s{int(streams.size()), d};
    streams.push_back(s);
    workers.push_back(std::make_unique<StreamWorker>());
    return s;
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

bool is_available(const Device& d) { return d.type == Device::cpu; }

void set_default_device(const Device& d) {
  if (!is_available(d)) {
    throw std::invalid_argument("[set_default_device] this build has no GPU backend");
  }
  std::lock_guard lock(streams().mutex);
  streams().default_device = d;
}

Stream default_stream(Device d) {
  if (!is_available(d)) throw std::invalid_argument("[default_stream] this build has no GPU backend");
  std::lock_guard lock(streams().mutex);
  return streams().default_cpu;
}

void set_default_stream(Stream s) {
  if (s.device.type != Device::cpu) throw std::invalid_argument("[set_default_stream] this build has no GPU backend");
  std::lock_guard lock(streams().mutex);
  streams().default_cpu = s;
}

Stream new_stream(Device d) {
  if (!is_available(d)) throw std::invalid_argument("[new_stream] this build has no GPU backend");
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
  scheduler::enqueue(s, [e] { e->signal(); });
  e->wait();
}

void synchronize() { synchronize(default_stream(default_device())); }

}  // namespace uma
