// The server's scheduler (serve/scheduler.h) on the built-in model, with the
// model behind a gate so that requests can be made to arrive while a step
// runs: prompts that come together and share a long start prefill it once
// (the later ones wait for the first's prefill, then take it from the prefix
// cache), and each answer is the one it gets alone.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "uma/lm/load.h"
#include "uma/serve/scheduler.h"

namespace uma::serve {
namespace {

// Forwards to `inner`; while the gate is shut every forward pass waits.
class GatedModel : public lm::Model {
 public:
  explicit GatedModel(std::shared_ptr<lm::Model> inner) : inner_(std::move(inner)) {}
  array operator()(const array& inputs, lm::CacheList* cache) override {
    pass();
    return (*inner_)(inputs, cache);
  }
  array last_logits(const array& inputs, lm::CacheList* cache) override {
    pass();
    return inner_->last_logits(inputs, cache);
  }
  lm::CacheList make_cache(std::optional<int> max_kv_size) const override { return inner_->make_cache(max_kv_size); }
  int num_layers() const override { return inner_->num_layers(); }
  int vocab_size() const override { return inner_->vocab_size(); }
  int max_context() const override { return inner_->max_context(); }
  int kv_heads() const override { return inner_->kv_heads(); }
  int kv_head_dim() const override { return inner_->kv_head_dim(); }

  void shut() {
    std::lock_guard lk(m_);
    open_ = false;
  }
  void open() {
    {
      std::lock_guard lk(m_);
      open_ = true;
    }
    cv_.notify_all();
  }
  // Waits until a forward pass is held at the gate.
  void wait_for_held() {
    std::unique_lock lk(m_);
    cv_.wait(lk, [&] { return held_ > 0; });
  }

 private:
  void pass() {
    std::unique_lock lk(m_);
    ++held_;
    cv_.notify_all();
    cv_.wait(lk, [&] { return open_; });
    --held_;
  }
  std::shared_ptr<lm::Model> inner_;
  std::mutex m_;
  std::condition_variable cv_;
  bool open_ = true;
  int held_ = 0;
};

lm::Loaded gated_builtin(std::shared_ptr<GatedModel>& gate) {
  lm::Loaded lm = lm::load(UMA_SOURCE_DIR "/models/uma-dict");
  gate = std::make_shared<GatedModel>(lm.model);
  lm.model = gate;
  return lm;
}

lm::TextOptions greedy(int max_tokens) {
  lm::TextOptions o;
  o.gen.max_tokens = max_tokens;
  return o;
}

// Runs the job to its end; its text.
std::string finish(const std::shared_ptr<Job>& job) {
  std::vector<lm::TextResponse> events;
  while (job->wait(events, std::chrono::milliseconds(100))) events.clear();
  EXPECT_EQ(job->error(), "");
  return job->result().text;
}

TEST(Scheduler, PromptsArrivingTogetherPrefillTheirSharedStartOnce) {
  std::shared_ptr<GatedModel> gate;
  lm::Loaded lm = gated_builtin(gate);
  // A shared start of 150 tokens, then three different endings.
  std::vector<int> shared;
  for (int i = 0; i < 150; ++i) shared.push_back(100 + (i * 37) % 3000);
  std::vector<std::vector<int>> prompts;
  for (int r = 0; r < 3; ++r) {
    std::vector<int> p = shared;
    for (int i = 0; i < 5 + 3 * r; ++i) p.push_back(3100 + 10 * r + i);
    prompts.push_back(p);
  }
  const std::vector<int> blocker = {7, 8, 9};

  // Each answer alone, with no prompt cache and one sequence at a time.
  std::vector<std::string> alone;
  {
    Scheduler solo(lm, {1, 0});
    for (auto& p : prompts) alone.push_back(finish(solo.submit(p, greedy(12))));
  }

  Scheduler s(lm, {8, size_t(64) << 20});
  gate->shut();
  auto first = s.submit(blocker, greedy(2));
  gate->wait_for_held();  // the scheduler is inside a step: the next three queue up
  std::vector<std::shared_ptr<Job>> jobs;
  for (auto& p : prompts) jobs.push_back(s.submit(p, greedy(12)));
  gate->open();
  finish(first);
  for (size_t r = 0; r < jobs.size(); ++r) EXPECT_EQ(finish(jobs[r]), alone[r]) << "prompt " << r;

  // The first of the three prefilled the shared start; the other two took it
  // from the cache and prefilled only their own endings.
  Scheduler::Stats st = s.stats();
  EXPECT_EQ(st.cache.hits, 2);
  EXPECT_EQ(st.cache.reused_tokens, 2 * int64_t(shared.size()));
  int64_t all = int64_t(blocker.size());
  for (auto& p : prompts) all += int64_t(p.size());
  EXPECT_EQ(st.prefilled_tokens, all - 2 * int64_t(shared.size()));
}

// Prompts sharing less than Scheduler::kShareMin tokens do not wait for each
// other: three such prompts arriving together all decode in one batch.
TEST(Scheduler, ShortSharedStartsDoNotWait) {
  std::shared_ptr<GatedModel> gate;
  lm::Loaded lm = gated_builtin(gate);
  std::vector<std::vector<int>> prompts;
  for (int r = 0; r < 3; ++r) {
    std::vector<int> p = {11, 12, 13, 14, 15};  // a short shared start
    for (int i = 0; i < 80; ++i) p.push_back(200 + 50 * r + i);
    prompts.push_back(p);
  }
  Scheduler s(lm, {8, size_t(64) << 20});
  gate->shut();
  auto first = s.submit({7, 8, 9}, greedy(2));
  gate->wait_for_held();
  std::vector<std::shared_ptr<Job>> jobs;
  for (auto& p : prompts) jobs.push_back(s.submit(p, greedy(6)));
  gate->open();
  finish(first);
  for (auto& j : jobs) finish(j);
  Scheduler::Stats st = s.stats();
  EXPECT_EQ(st.cache.hits, 0);
  // Admitted together, so at least one decode step carried all three.
  EXPECT_GE(st.decode_rows, st.decode_steps + 2);
}

}  // namespace
}  // namespace uma::serve
