#include "uma/serve/scheduler.h"

#include <stdexcept>

namespace uma::serve {

// --- job

bool Job::wait(std::vector<lm::TextResponse>& out, std::chrono::milliseconds timeout) {
  std::unique_lock lk(m_);
  cv_.wait_for(lk, timeout, [&] { return over_ || !events_.empty(); });
  for (auto& e : events_) out.push_back(std::move(e));
  events_.clear();
  return !over_ || !out.empty();
}

void Job::push(lm::TextResponse r) {
  {
    std::lock_guard lk(m_);
    events_.push_back(std::move(r));
  }
  cv_.notify_all();
}

void Job::complete(const lm::TextResult& r) {
  {
    std::lock_guard lk(m_);
    result_ = r;
    over_ = true;
  }
  cv_.notify_all();
}

void Job::fail(const std::string& error, bool invalid) {
  {
    std::lock_guard lk(m_);
    error_ = error.empty() ? "generation failed" : error;
    invalid_ = invalid;
    over_ = true;
  }
  cv_.notify_all();
}

// --- scheduler

Scheduler::Scheduler(lm::Loaded& lm, SchedulerOptions o)
    : lm_(lm), opts_(o), batch_(*lm.model), prefix_(o.prompt_cache_bytes) {
  if (o.max_concurrency < 1) {
    throw std::invalid_argument("[serve] max_concurrency must be >= 1, got " + std::to_string(o.max_concurrency));
  }
  thread_ = std::thread([this] { run(); });
}

Scheduler::~Scheduler() {
  {
    std::lock_guard lk(m_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<Job> Scheduler::submit(std::vector<int> prompt, lm::TextOptions opts) {
  auto job = std::make_shared<Job>(std::move(prompt), std::move(opts));
  {
    std::lock_guard lk(m_);
    if (stop_) {
      job->fail("the server is stopping", false);
      return job;
    }
    waiting_.push_back(job);
    waiting_count_ = int(waiting_.size());
  }
  cv_.notify_all();
  return job;
}

Scheduler::Stats Scheduler::stats() const {
  std::lock_guard lk(m_);
  return stats_;
}

bool Scheduler::should_wait(const std::vector<int>& prompt) const {
  if (prompt.size() <= kShareMin || opts_.prompt_cache_bytes == 0) return false;
  const size_t cached = size_t(prefix_.match(prompt));
  for (auto& [id, a] : active_) {
    if (!a.prefilling) continue;
    // The last token is always fed, as PrefixCache::fetch serves it.
    size_t shared = std::min(lm::common_prefix(a.job->prompt(), prompt), prompt.size() - 1);
    if (shared >= cached + kShareMin) return true;
  }
  return false;
}

void Scheduler::admit(const std::shared_ptr<Job>& job) {
  if (job->cancelled()) return job->complete({});
  try {
    lm::TextStream text(lm_.tokenizer, job->options());
    lm::GenerateOptions gen = job->options().gen;
    text.add_processors(gen);  // the grammar's, if the request has one
    auto hit = prefix_.fetch(job->prompt());
    job->set_cached_tokens(hit.tokens);
    uint64_t id = batch_.insert(job->prompt(), gen, std::move(hit.cache));
    std::lock_guard lk(m_);
    stats_.prefilled_tokens += int64_t(job->prompt().size()) - hit.tokens;
    active_.emplace(id, Active{job, std::move(text)});
  } catch (const std::invalid_argument& e) {
    job->fail(e.what(), true);
  } catch (const std::exception& e) {
    job->fail(e.what(), false);
  }
}

void Scheduler::retire(uint64_t id, bool keep_cache) {
  auto it = active_.find(id);
  std::vector<int> held;
  lm::CacheList caches = batch_.remove(id, keep_cache ? &held : nullptr);
  // A failed sequence's caches may hold a half-built step: never shared.
  if (keep_cache) prefix_.insert(held, caches);
  if (it != active_.end()) {
    if (it->second.job->error().empty()) it->second.job->complete(it->second.text.result());
    active_.erase(it);
  }
}

void Scheduler::handle(const lm::BatchOutput& o) {
  auto it = active_.find(o.id);
  if (it == active_.end()) return;
  Active& a = it->second;
  if (!o.error.empty()) {
    a.job->fail(o.error, o.invalid);
    return retire(o.id, false);
  }
  if (o.token) {
    if (o.stats.generated == 1) {
      // The prompt is in: requests that start like it can use it from now on.
      a.prefilling = false;
      std::vector<int> held;
      const lm::CacheList& caches = batch_.caches(o.id, &held);
      prefix_.insert(held, caches);
    }
    try {
      a.job->push(a.text.add(*o.token, o.logprob, o.stats));
    } catch (const std::exception& e) {  // a token the grammar refuses
      a.job->fail(e.what(), false);
      return retire(o.id, false);
    }
    if (a.text.done()) return retire(o.id, true);
  }
  if (o.finished) {
    a.job->push(a.text.finish("length"));
    retire(o.id, true);
  }
}

void Scheduler::run() {
  std::unique_lock lk(m_);
  for (;;) {
    cv_.wait(lk, [&] { return stop_ || !waiting_.empty() || !active_.empty(); });
    if (stop_) break;
    // Join the batch between steps, first come first served, but for those
    // that wait for a shared prefix being prefilled.
    for (size_t i = 0; int(active_.size()) < opts_.max_concurrency && i < waiting_.size();) {
      auto job = waiting_[i];
      if (!job->cancelled() && should_wait(job->prompt())) {
        ++i;
        continue;
      }
      waiting_.erase(waiting_.begin() + long(i));
      waiting_count_ = int(waiting_.size());
      lk.unlock();
      admit(job);
      lk.lock();
    }
    active_count_ = int(active_.size());
    lk.unlock();
    // Those whose clients have gone leave before the step.
    std::vector<uint64_t> gone;
    for (auto& [id, a] : active_) {
      if (a.job->cancelled()) gone.push_back(id);
    }
    for (auto id : gone) retire(id, true);
    if (!batch_.empty()) {
      std::vector<lm::BatchOutput> outs;
      try {
        outs = batch_.step();
      } catch (const std::exception& e) {
        // step() fails sequences one by one; anything that still escapes it
        // fails every sequence in the batch, and the server goes on.
        std::vector<uint64_t> all;
        for (auto& entry : active_) {
          entry.second.job->fail(e.what(), false);
          all.push_back(entry.first);
        }
        for (auto id : all) retire(id, false);
      }
      for (auto& o : outs) {
        try {
          handle(o);
        } catch (const std::exception& e) {
          // Detokenizing or caching one sequence went wrong: that one fails.
          if (auto it = active_.find(o.id); it != active_.end()) it->second.job->fail(e.what(), false);
          retire(o.id, false);
        }
      }
    }
    lk.lock();
    active_count_ = int(active_.size());
    stats_.decode_steps = batch_.decode_steps();
    stats_.decode_rows = batch_.decode_rows();
    stats_.cache_entries = prefix_.size();
    stats_.cache_bytes = prefix_.nbytes();
    stats_.cache = prefix_.counters();
  }
  // Stopping: nothing should be left (the server drains first); fail what is.
  for (auto& j : waiting_) j->fail("the server is stopping", false);
  waiting_.clear();
  for (auto& [id, a] : active_) a.job->fail("the server is stopping", false);
  active_.clear();
}

}  // namespace uma::serve
