// Stream workers and completion events. Every stream has one worker thread
// that runs evaluation tasks in the order they were queued.
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>

#include "uma/core/device.h"

namespace uma {

// Signalled once when a task finishes; carries the task's exception, if any.
struct Event {
  void wait();
  void signal(std::exception_ptr error = nullptr);
  bool done();

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::exception_ptr error_;
};

namespace scheduler {

void enqueue(Stream s, std::function<void()> task);
// True on a stream worker thread (evaluation requested there runs inline).
bool in_worker();

}  // namespace scheduler
}  // namespace uma
