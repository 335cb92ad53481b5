// Continuous batching (lm/batch_generate.h) against the unbatched
// TokenGenerator on every fixture architecture (tests/fixtures/models; Gemma 2
// and 3 with sliding windows of 8, so their rotating caches wrap): greedy
// tokens of each sequence equal its run alone, with prompts of different
// lengths, sequences joining and leaving mid-run, quantized and bounded
// caches; a batched step's float32 logits equal each row's unbatched ones
// within rounding; a failing sequence leaves the others unharmed.
#include <gtest/gtest.h>

#include <random>

#include "lm/model_util.h"
#include "uma/lm/batch_generate.h"
#include "uma/lm/kv_cache_batch.h"
#include "uma/lm/load.h"
#include "uma/uma.h"

using namespace uma;
using namespace uma::lm;

namespace {

std::vector<int> random_prompt(int n, int vocab, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(3, vocab - 1);
  std::vector<int> out;
  for (int i = 0; i < n; ++i) out.push_back(d(rng));
  return out;
}

std::vector<int> alone(Model& m, const std::vector<int>& prompt, const GenerateOptions& o) {
  std::vector<int> out;
  TokenGenerator gen(m, prompt, o);
  while (auto t = gen.next()) out.push_back(*t);
  return out;
}

// Runs the prompts through one BatchGenerator: prompt i joins before step
// join_at[i]; each sequence is removed as soon as it finishes.
std::vector<std::vector<int>> batched(Model& m, const std::vector<std::vector<int>>& prompts,
                                      const std::vector<GenerateOptions>& opts, const std::vector<int>& join_at,
                                      int* most_rows = nullptr) {
  BatchGenerator batch(m);
  std::map<uint64_t, size_t> which;
  std::vector<std::vector<int>> out(prompts.size());
  size_t joined = 0;
  for (int step = 0; joined < prompts.size() || !batch.empty(); ++step) {
    for (size_t i = 0; i < prompts.size(); ++i) {
      if (join_at[i] == step) {
        which[batch.insert(prompts[i], opts[i])] = i;
        ++joined;
      }
    }
    int64_t rows = batch.decode_rows();
    for (auto& o : batch.step()) {
      EXPECT_TRUE(o.error.empty()) << o.error;
      if (o.token) out[which[o.id]].push_back(*o.token);
      if (o.finished || !o.error.empty()) batch.remove(o.id);
    }
    if (most_rows) *most_rows = std::max<int>(*most_rows, int(batch.decode_rows() - rows));
    EXPECT_LT(step, 1000);
    if (step >= 1000) break;
  }
  return out;
}

// A (1, V) row: 1000 at `id`, 0 elsewhere.
array one_hot_row(int V, int id) {
  std::vector<float> v(static_cast<size_t>(V), 0.0f);
  v[size_t(id)] = 1000.0f;
  return array(v.data(), {1, V});
}

class BatchFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(BatchFixture, GreedyTokensEqualEachSequenceAlone) {
  auto lm = load_model(test::model_fixture(GetParam()));
  Model& m = *lm.model;
  std::vector<std::vector<int>> prompts = {random_prompt(5, m.vocab_size(), 1), random_prompt(13, m.vocab_size(), 2),
                                           random_prompt(3, m.vocab_size(), 3), random_prompt(21, m.vocab_size(), 4)};
  std::vector<GenerateOptions> opts(4);
  int max_tokens[] = {12, 7, 16, 9};
  for (size_t i = 0; i < 4; ++i) opts[i].max_tokens = max_tokens[i];
  opts[1].prefill_step_size = 4;  // prefilled in chunks between decode steps
  int most = 0;
  // Two start together, one joins mid-run, one after the second has left.
  auto got = batched(m, prompts, opts, {0, 0, 3, 9}, &most);
  EXPECT_GE(most, 3);
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(got[i], alone(m, prompts[i], opts[i])) << GetParam() << " " << i;
  }
}

TEST_P(BatchFixture, BoundedAndQuantizedCachesToo) {
  auto lm = load_model(test::model_fixture(GetParam()));
  Model& m = *lm.model;
  std::vector<std::vector<int>> prompts = {random_prompt(9, m.vocab_size(), 5), random_prompt(4, m.vocab_size(), 6),
                                           random_prompt(15, m.vocab_size(), 7)};
  std::vector<GenerateOptions> opts(3);
  for (auto& o : opts) o.max_tokens = 14;
  opts[0].max_kv_size = 12;  // rotating caches that wrap
  // --kv-bits, where the fixture's head_dim takes a group of 32 (Qwen3's);
  // the built-in model's test below quantizes too.
  const bool quantizes = m.kv_head_dim() % 32 == 0;
  if (quantizes) opts[1].kv_quant = KVQuantization{8, 32, 6};
  opts[2].sampler.temp = 0.8f;  // seeded sampling: the same stream of keys as alone
  opts[2].sampler.seed = 11;
  opts[2].logits.repetition_penalty = 1.3f;
  auto got = batched(m, prompts, opts, {0, 1, 2});
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(got[i], alone(m, prompts[i], opts[i])) << GetParam() << " " << i;
  }
}

TEST_P(BatchFixture, BatchedLogitsEqualUnbatchedOnes) {
  auto lm = load_model(test::model_fixture(GetParam()));
  Model& m = *lm.model;
  ASSERT_EQ(lm.dtype, float32);
  std::vector<std::vector<int>> prompts = {random_prompt(6, m.vocab_size(), 8), random_prompt(11, m.vocab_size(), 9),
                                           random_prompt(2, m.vocab_size(), 10)};
  std::vector<CacheList> alone_caches, batch_caches_;
  std::vector<array> want;
  for (auto& p : prompts) {
    for (auto* list : {&alone_caches, &batch_caches_}) {
      list->push_back(m.make_cache());
      m(array(p.data(), {1, int(p.size())}), &list->back());
    }
    // The next token (the prompt's first, say) fed alone.
    want.push_back(m.last_logits(array(p.data(), {1, 1}), &alone_caches.back()));
  }
  std::vector<CacheList*> rows;
  std::vector<int> next;
  for (size_t i = 0; i < prompts.size(); ++i) {
    rows.push_back(&batch_caches_[i]);
    next.push_back(prompts[i][0]);
  }
  CacheList batch = batch_caches(rows);
  array got = m.last_logits(array(next.data(), {3, 1}), &batch);
  ASSERT_EQ(got.shape(), (Shape{3, m.vocab_size()}));
  for (int b = 0; b < 3; ++b) {
    array row = slice(got, {b, 0}, {b + 1, m.vocab_size()});
    EXPECT_LE(test::rel_err(row, want[size_t(b)]), 1e-5) << GetParam() << " row " << b;
    EXPECT_EQ(batch_caches_[size_t(b)][0]->offset(), int(prompts[size_t(b)].size()) + 1);
  }
}

// Packed rows of different lengths in one (1, N) input: a decode token, a
// prompt chunk without logits and one with, each equal to feeding it alone.
TEST_P(BatchFixture, PackedRowsEqualUnbatchedOnes) {
  auto lm = load_model(test::model_fixture(GetParam()));
  Model& m = *lm.model;
  ASSERT_EQ(lm.dtype, float32);
  const int V = m.vocab_size();
  std::vector<std::vector<int>> prompts = {random_prompt(6, V, 12), random_prompt(11, V, 13),
                                           random_prompt(2, V, 14)};
  std::vector<std::vector<int>> feed = {random_prompt(1, V, 15), random_prompt(4, V, 16), random_prompt(3, V, 17)};
  std::vector<CacheList> alone_caches, batch_caches_;
  std::vector<array> want;
  for (size_t i = 0; i < prompts.size(); ++i) {
    for (auto* list : {&alone_caches, &batch_caches_}) {
      list->push_back(m.make_cache());
      m(array(prompts[i].data(), {1, int(prompts[i].size())}), &list->back());
    }
    want.push_back(m.last_logits(array(feed[i].data(), {1, int(feed[i].size())}), &alone_caches.back()));
  }
  std::vector<CacheList*> rows;
  std::vector<int> packed;
  for (size_t i = 0; i < prompts.size(); ++i) {
    rows.push_back(&batch_caches_[i]);
    packed.insert(packed.end(), feed[i].begin(), feed[i].end());
  }
  CacheList batch = batch_caches(rows, PackedRows{{1, 4, 3}, {0, 2}});
  array got = m.last_logits(array(packed.data(), {1, int(packed.size())}), &batch);
  ASSERT_EQ(got.shape(), (Shape{2, V}));
  EXPECT_LE(test::rel_err(slice(got, {0, 0}, {1, V}), want[0]), 1e-5) << GetParam();
  EXPECT_LE(test::rel_err(slice(got, {1, 0}, {2, V}), want[2]), 1e-5) << GetParam();
  // The row without logits still filled its cache: the next token agrees.
  eval(got);
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(batch_caches_[i][0]->offset(), int(prompts[i].size() + feed[i].size()));
    array next(prompts[i].data(), {1, 1});
    EXPECT_LE(test::rel_err(m.last_logits(next, &batch_caches_[i]), m.last_logits(next, &alone_caches[i])), 1e-5)
        << GetParam() << " row " << i;
  }
  EXPECT_THROW(batch_caches(rows, PackedRows{{1, 4}, {0}}), std::invalid_argument);
  EXPECT_THROW(batch_caches(rows, PackedRows{{1, 0, 3}, {0}}), std::invalid_argument);
  EXPECT_THROW(batch_caches(rows, PackedRows{{1, 4, 3}, {3}}), std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Architectures, BatchFixture,
                         ::testing::Values("llama", "mistral", "qwen2", "qwen3", "phi3", "gemma2", "gemma3"));

// The built-in model (bfloat16): greedy answers in a batch of four equal
// each alone.
TEST(BatchGenerator, TheBuiltInModelAgrees) {
  auto lm = load_model(std::string(UMA_SOURCE_DIR) + "/models/uma-dict");
  Model& m = *lm.model;
  std::vector<std::vector<int>> prompts;
  std::vector<GenerateOptions> opts(4);
  for (unsigned i = 0; i < 4; ++i) {
    prompts.push_back(random_prompt(4 + 7 * int(i), m.vocab_size(), 20 + i));
    opts[i].max_tokens = 24;
  }
  opts[3].kv_quant = KVQuantization{4, 64, 10};  // --kv-bits 4 from the 10th token
  auto got = batched(m, prompts, opts, {0, 0, 2, 5});
  for (size_t i = 0; i < prompts.size(); ++i) EXPECT_EQ(got[i], alone(m, prompts[i], opts[i])) << i;
}

// A sequence that fails (a logit_bias outside the vocabulary throws in its
// first step) leaves with its error; the others finish as they would alone.
TEST(BatchGenerator, AFailingSequenceLeavesTheOthersAlone) {
  auto lm = load_model(test::model_fixture("llama"));
  Model& m = *lm.model;
  GenerateOptions good, bad;
  good.max_tokens = bad.max_tokens = 10;
  bad.logits.logit_bias[m.vocab_size() + 5] = 1.0f;
  auto p = random_prompt(7, m.vocab_size(), 30), q = random_prompt(5, m.vocab_size(), 31);
  BatchGenerator batch(m);
  uint64_t a = batch.insert(p, good);
  std::vector<int> got;
  int errors = 0;
  for (int step = 0; !batch.empty() && step < 100; ++step) {
    if (step == 2) batch.insert(q, bad);
    for (auto& o : batch.step()) {
      if (!o.error.empty()) {
        ++errors;
        EXPECT_NE(o.id, a);
        EXPECT_TRUE(o.invalid);
        EXPECT_NE(o.error.find("[logit_bias]"), std::string::npos) << o.error;
        batch.remove(o.id);
        continue;
      }
      got.push_back(*o.token);
      if (o.finished) batch.remove(o.id);
    }
  }
  EXPECT_EQ(errors, 1);
  EXPECT_EQ(got, alone(m, p, good));
}

// A caller's processor that throws mid-decode (its third step) fails that
// sequence alone, with the others in the same batched steps going on; a
// processor that pushes a token up steers its own sequence only.
TEST(BatchGenerator, ACallersProcessorsRunPerSequence) {
  auto lm = load_model(test::model_fixture("qwen2"));
  Model& m = *lm.model;
  GenerateOptions plain, throws, steered;
  plain.max_tokens = throws.max_tokens = steered.max_tokens = 8;
  auto calls = std::make_shared<int>(0);
  throws.processors.push_back([calls](const std::vector<int>&, const array& logits) {
    if (++*calls == 3) throw std::runtime_error("out of grammar");
    return logits;
  });
  steered.processors.push_back([](const std::vector<int>&, const array& logits) {
    return add(logits, astype(one_hot_row(logits.shape(-1), 7), logits.dtype()));
  });
  auto p = random_prompt(6, m.vocab_size(), 40), q = random_prompt(9, m.vocab_size(), 41);
  BatchGenerator batch(m);
  uint64_t a = batch.insert(p, plain), b = batch.insert(q, throws), c = batch.insert(q, steered);
  std::map<uint64_t, std::vector<int>> got;
  std::string error;
  for (int step = 0; !batch.empty() && step < 100; ++step) {
    for (auto& o : batch.step()) {
      if (!o.error.empty()) {
        EXPECT_EQ(o.id, b);
        EXPECT_FALSE(o.invalid);
        error = o.error;
        batch.remove(o.id);
        continue;
      }
      got[o.id].push_back(*o.token);
      if (o.finished) batch.remove(o.id);
    }
  }
  EXPECT_EQ(error, "out of grammar");
  EXPECT_EQ(got[b].size(), 2u);
  EXPECT_EQ(got[a], alone(m, p, plain));
  EXPECT_EQ(got[c], std::vector<int>(8, 7));
  EXPECT_EQ(got[c], alone(m, q, steered));
}

TEST(BatchGenerator, ArgumentsAreChecked) {
  auto lm = load_model(test::model_fixture("llama"));
  BatchGenerator batch(*lm.model);
  GenerateOptions o;
  EXPECT_THROW(batch.insert({}, o), std::invalid_argument);
  EXPECT_THROW(batch.insert({lm.model->vocab_size()}, o), std::invalid_argument);
  CacheList c = lm.model->make_cache();
  std::vector<int> p = {5, 6};
  (*lm.model)(array(p.data(), {1, 2}), &c);
  try {
    batch.insert(p, o, std::move(c));
    FAIL() << "a cache holding the whole prompt must be refused";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("[batch] the cache holds 2 tokens"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(batch.empty());
}

}  // namespace
