// The server's generation loop: one thread runs every request's sequences as
// one continuous batch (lm/batch_generate.h), with a prompt cache shared by
// all requests (lm/prefix_cache.h). HTTP handler threads submit a Job (one
// sequence: one choice of one request) and read its text events as they are
// made; a handler whose client has gone cancels its job, which leaves the
// batch at the next step. Up to max_concurrency sequences decode together;
// the rest wait, first come first served, except that a prompt sharing a long
// prefix with one being prefilled waits for it (should_wait) while later ones
// may go ahead. An error in one sequence fails that
// job alone (an error in the batched step itself fails the sequences in it).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "uma/lm/batch_generate.h"
#include "uma/lm/load.h"
#include "uma/lm/prefix_cache.h"
#include "uma/lm/stream.h"

namespace uma::serve {

// One sequence's channel between the scheduler and the handler waiting for it.
class Job {
 public:
  Job(std::vector<int> prompt, lm::TextOptions opts) : prompt_(std::move(prompt)), opts_(std::move(opts)) {}

  // Handler side. Moves the events made since the last call into `out`,
  // waiting up to `timeout` for one; returns false once the job is over and
  // every event was taken.
  bool wait(std::vector<lm::TextResponse>& out, std::chrono::milliseconds timeout);
  // The client has gone: the scheduler drops the sequence at its next step.
  void cancel() { cancelled_ = true; }
  bool cancelled() const { return cancelled_; }
  // After wait() returned false: the whole result, or the failure.
  const lm::TextResult& result() const { return result_; }
  const std::string& error() const { return error_; }
  bool invalid() const { return invalid_; }  // the failure was the request's fault (400)
  // The prompt tokens that came from the shared prompt cache (once it joined the batch).
  int cached_tokens() const { return cached_tokens_; }

  // Scheduler side.
  const std::vector<int>& prompt() const { return prompt_; }
  const lm::TextOptions& options() const { return opts_; }
  void push(lm::TextResponse r);
  void complete(const lm::TextResult& r);
  void fail(const std::string& error, bool invalid);
  void set_cached_tokens(int n) { cached_tokens_ = n; }

 private:
  std::vector<int> prompt_;
  lm::TextOptions opts_;
  std::atomic<bool> cancelled_{false};
  std::atomic<int> cached_tokens_{0};
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<lm::TextResponse> events_;
  bool over_ = false;
  lm::TextResult result_;
  std::string error_;
  bool invalid_ = false;
};

struct SchedulerOptions {
  int max_concurrency = 8;                  // sequences decoding at once
  size_t prompt_cache_bytes = size_t(1) << 30;  // the shared prefix cache's budget (0: none)
};

class Scheduler {
 public:
  // Starts the thread; `lm` must outlive this object.
  Scheduler(lm::Loaded& lm, SchedulerOptions o);
  // Fails what is still waiting or running ("the server is stopping") and
  // joins the thread.
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a sequence; its events arrive through the returned job.
  std::shared_ptr<Job> submit(std::vector<int> prompt, lm::TextOptions opts);

  int active() const { return active_count_; }    // sequences in the batch
  int waiting() const { return waiting_count_; }  // sequences waiting for a place in it

  struct Stats {
    int64_t decode_steps = 0, decode_rows = 0;
    int64_t prefilled_tokens = 0;  // prompt tokens fed through the model (the rest came from the cache)
    size_t cache_entries = 0, cache_bytes = 0;
    lm::PrefixCache::Counters cache;
  };
  Stats stats() const;

 private:
  struct Active {
    std::shared_ptr<Job> job;
    lm::TextStream text;
    bool prefilling = true;  // its prompt is not in the prefix cache yet
  };
  void run();
  // Whether `prompt` should wait for a sequence now prefilling that shares
  // at least kShareMin more of its tokens than the prefix cache holds: once
  // that prompt is in, this one prefills only what differs. Requests that
  // arrive together with one long system prompt compute it once.
  bool should_wait(const std::vector<int>& prompt) const;
  static constexpr size_t kShareMin = 64;
  void admit(const std::shared_ptr<Job>& job);
  // Ends an active sequence: its caches go to the prefix cache (unless it failed).
  void retire(uint64_t id, bool keep_cache);
  void handle(const lm::BatchOutput& o);

  lm::Loaded& lm_;
  SchedulerOptions opts_;
  lm::BatchGenerator batch_;
  lm::PrefixCache prefix_;
  std::map<uint64_t, Active> active_;  // by batch id; the scheduler thread's alone

  mutable std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> waiting_;
  bool stop_ = false;
  std::atomic<int> active_count_{0}, waiting_count_{0};
  Stats stats_;  // under m_
  std::thread thread_;
};

}  // namespace uma::serve
