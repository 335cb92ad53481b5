// PromptCache's longest-prefix reuse against recomputation from scratch on
// the tiny fixture models: whatever the cache keeps, trims or drops, feeding
// the tokens fetch returns must give the logits that a fresh cache gives for
// the whole prompt. Cases: a next turn after generation (the last generated
// token is never fed), a full hit, a divergence in the middle, an EOS fed
// ahead and dropped, and rotating caches (gemma2's sliding-window layers,
// --max-kv-size) that can trim before they wrap and start over after.
#include <gtest/gtest.h>

#include "lm/model_util.h"
#include "uma/lm/generate.h"
#include "uma/lm/load.h"
#include "uma/lm/prompt_cache.h"
#include "uma/uma.h"

using namespace uma;
using namespace uma::lm;
using uma::test::rel_err;

namespace {

// Float32 fixtures; only the chunking of the computation differs.
constexpr double kTol = 5e-5;

std::vector<int> token_ids(int n, int vocab, int seed) {
  std::vector<int> ids(n);
  for (int i = 0; i < n; ++i) ids[i] = (37 * i + 11 * seed + 5) % vocab;
  return ids;
}

std::vector<int> concat(std::vector<int> a, const std::vector<int>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<int> head(const std::vector<int>& a, size_t n) { return {a.begin(), a.begin() + long(n)}; }

// The last position's logits of `tokens` fed through `caches`.
array feed(Model& m, CacheList& caches, const std::vector<int>& tokens) {
  array logits = m.last_logits(array(tokens, {1, int(tokens.size())}), &caches);
  eval(logits);
  return logits;
}

array from_scratch(Model& m, const std::vector<int>& prompt, std::optional<int> max_kv_size = std::nullopt) {
  CacheList caches = m.make_cache(max_kv_size);
  return feed(m, caches, prompt);
}

// Greedy generation into the prompt cache, as `uma chat` runs it; stops
// after `stop_after` tokens (on_token returning false, as for an EOS).
std::vector<int> generate(Model& m, PromptCache& pc, const std::vector<int>& fresh, int max_tokens,
                          int stop_after = -1) {
  GenerateOptions opts;
  opts.max_tokens = max_tokens;
  std::vector<int> out;
  generate_tokens(m, fresh, opts, [&](int t, const StepStats&) {
    out.push_back(t);
    return int(out.size()) != stop_after;
  }, &pc.caches());
  return out;
}

LoadedModel load_fixture(const std::string& arch) { return load_model(test::model_fixture(arch)); }

// A prompt cache that holds `prompt`, fed as one chunk.
PromptCache holding(Model& m, const std::vector<int>& prompt, std::optional<int> max_kv_size = std::nullopt) {
  PromptCache pc(m, max_kv_size);
  feed(m, pc.caches(), pc.fetch(prompt));
  pc.record({});
  EXPECT_EQ(pc.tokens(), prompt);
  EXPECT_EQ(pc.offset(), int(prompt.size()));
  return pc;
}

// Feeding what fetch returned gives the logits of `prompt` from scratch.
void expect_as_from_scratch(Model& m, PromptCache& pc, const std::vector<int>& fresh,
                            const std::vector<int>& prompt, std::optional<int> max_kv_size = std::nullopt) {
  EXPECT_LE(rel_err(feed(m, pc.caches(), fresh), from_scratch(m, prompt, max_kv_size)), kTol);
}

}  // namespace

TEST(PromptCache, NextTurnFeedsOnlyWhatFollowsTheHeldTokens) {
  auto lm = load_fixture("llama");
  Model& m = *lm.model;
  auto p1 = token_ids(10, m.vocab_size(), 1);
  PromptCache pc(m);
  EXPECT_EQ(pc.fetch(p1), p1);  // an empty cache keeps nothing
  auto gen = generate(m, pc, p1, 4);
  ASSERT_EQ(gen.size(), 4u);
  pc.record(gen);
  // The last generated token was never fed: it is not held.
  EXPECT_EQ(pc.tokens(), concat(p1, head(gen, 3)));
  EXPECT_EQ(pc.offset(), 13);

  auto extra = token_ids(5, m.vocab_size(), 2);
  auto p2 = concat(concat(p1, gen), extra);
  auto fresh = pc.fetch(p2);
  EXPECT_EQ(fresh, concat({gen[3]}, extra));
  EXPECT_EQ(pc.offset(), 13);
  expect_as_from_scratch(m, pc, fresh, p2);
}

TEST(PromptCache, FullHitFeedsTheLastTokenAgain) {
  auto lm = load_fixture("llama");
  Model& m = *lm.model;
  auto p = token_ids(12, m.vocab_size(), 3);
  PromptCache pc = holding(m, p);
  // The same prompt again: everything but the last token is kept, so there
  // are logits to start the answer from.
  auto fresh = pc.fetch(p);
  EXPECT_EQ(fresh, std::vector<int>{p.back()});
  EXPECT_EQ(pc.offset(), 11);
  expect_as_from_scratch(m, pc, fresh, p);
}

TEST(PromptCache, DivergenceInTheMiddleTrimsToTheCommonPrefix) {
  auto lm = load_fixture("llama");
  Model& m = *lm.model;
  auto p1 = token_ids(20, m.vocab_size(), 4);
  PromptCache pc = holding(m, p1);
  auto p2 = concat(head(p1, 8), token_ids(6, m.vocab_size(), 5));
  ASSERT_NE(p2[8], p1[8]);
  auto fresh = pc.fetch(p2);
  EXPECT_EQ(fresh, std::vector<int>(p2.begin() + 8, p2.end()));
  EXPECT_EQ(pc.offset(), 8);
  array want = from_scratch(m, p2);
  EXPECT_LE(rel_err(feed(m, pc.caches(), fresh), want), kTol);

  // The control: the same tokens fed after the untrimmed cache give other
  // logits, so the comparison above sees a wrong prefix.
  CacheList untrimmed = m.make_cache();
  feed(m, untrimmed, p1);
  EXPECT_GT(rel_err(feed(m, untrimmed, fresh), want), 1e-3);
}

// An EOS ends generation after its step was built ahead: the caches hold it,
// the recorded tokens do not, so record drops it from the caches.
TEST(PromptCache, RecordDropsAnEosFedAhead) {
  auto lm = load_fixture("llama");
  Model& m = *lm.model;
  auto p1 = token_ids(9, m.vocab_size(), 6);
  PromptCache pc(m);
  auto gen = generate(m, pc, pc.fetch(p1), 8, /*stop_after=*/3);
  ASSERT_EQ(gen.size(), 3u);
  EXPECT_EQ(pc.offset(), 12);  // the third token's step was built ahead
  pc.record(head(gen, 2));      // the third is the "EOS": not part of the answer
  EXPECT_EQ(pc.tokens(), concat(p1, head(gen, 2)));
  EXPECT_EQ(pc.offset(), 11);

  auto p2 = concat(concat(p1, head(gen, 2)), token_ids(4, m.vocab_size(), 7));
  auto fresh = pc.fetch(p2);
  EXPECT_EQ(fresh.size(), 4u);
  expect_as_from_scratch(m, pc, fresh, p2);
}

// gemma2 alternates sliding-window layers (a rotating cache of 8) with
// global ones. Before the window fills, the rotating cache trims like the
// others.
TEST(PromptCache, SlidingWindowCacheTrimsBeforeItWraps) {
  auto lm = load_fixture("gemma2");
  Model& m = *lm.model;
  auto p1 = token_ids(7, m.vocab_size(), 8);
  PromptCache pc = holding(m, p1);
  ASSERT_NE(dynamic_cast<RotatingKVCache*>(pc.caches().at(0).get()), nullptr);
  auto p2 = concat(head(p1, 4), token_ids(9, m.vocab_size(), 9));
  auto fresh = pc.fetch(p2);
  EXPECT_EQ(fresh.size(), 9u);
  EXPECT_EQ(pc.offset(), 4);
  expect_as_from_scratch(m, pc, fresh, p2);
}

// Once the window has wrapped, the dropped positions are gone: a diverging
// prompt starts over, while a prompt that extends the held tokens keeps
// them all (nothing to trim) and still equals recomputation.
TEST(PromptCache, WrappedSlidingWindowStartsOverOnlyWhenItMustTrim) {
  auto lm = load_fixture("gemma2");
  Model& m = *lm.model;
  auto p1 = token_ids(20, m.vocab_size(), 10);
  PromptCache pc = holding(m, p1);
  ASSERT_FALSE(pc.caches()[0]->is_trimmable());

  auto longer = concat(p1, token_ids(5, m.vocab_size(), 11));
  auto fresh = pc.fetch(longer);
  EXPECT_EQ(fresh.size(), 5u);
  EXPECT_EQ(pc.offset(), 20);
  expect_as_from_scratch(m, pc, fresh, longer);
  pc.record({});

  auto diverged = concat(head(p1, 12), token_ids(3, m.vocab_size(), 12));
  fresh = pc.fetch(diverged);
  EXPECT_EQ(fresh, diverged);
  EXPECT_EQ(pc.offset(), 0);
  EXPECT_EQ(pc.tokens(), diverged);
  expect_as_from_scratch(m, pc, fresh, diverged);
}

// --max-kv-size: every layer rotates (4 sink tokens). A wrapped cache that
// would have to trim starts over; the answer equals a fresh bounded cache's.
TEST(PromptCache, WrappedMaxKvSizeCacheStartsOver) {
  auto lm = load_fixture("llama");
  Model& m = *lm.model;
  const int max_kv = 12;
  auto p1 = token_ids(16, m.vocab_size(), 13);
  PromptCache pc = holding(m, p1, max_kv);
  EXPECT_EQ(pc.offset(), 16);
  auto p2 = concat(head(p1, 10), token_ids(4, m.vocab_size(), 14));
  auto fresh = pc.fetch(p2);
  EXPECT_EQ(fresh, p2);
  EXPECT_EQ(pc.offset(), 0);
  expect_as_from_scratch(m, pc, fresh, p2, max_kv);

  // A bounded cache that has not wrapped yet (8 tokens of 12) trims.
  auto q1 = token_ids(8, m.vocab_size(), 15);
  PromptCache small = holding(m, q1, max_kv);
  auto q2 = concat(head(q1, 5), token_ids(3, m.vocab_size(), 16));
  fresh = small.fetch(q2);
  EXPECT_EQ(fresh.size(), 3u);
  EXPECT_EQ(small.offset(), 5);
  expect_as_from_scratch(m, small, fresh, q2, max_kv);
}

TEST(PromptCache, ResetEmptiesTheCaches) {
  auto lm = load_fixture("llama");
  Model& m = *lm.model;
  auto p = token_ids(6, m.vocab_size(), 17);
  PromptCache pc = holding(m, p);
  pc.reset();
  EXPECT_EQ(pc.offset(), 0);
  EXPECT_TRUE(pc.tokens().empty());
  EXPECT_EQ(pc.fetch(p), p);
}
