// The model-level rotating KV cache (--max-kv-size: mlx-lm's
// RotatingKVCache with keep = 4 sink tokens) against the same model run once
// over the whole sequence with a full cache and an explicit mask that lets
// each position see exactly the keys the rotating cache still holds:
//   one token at a time:       the 4 sinks and the last max_kv_size - 4
//                              positions, itself included;
//   a first chunk (empty cache): a sliding window of max_kv_size, no sinks;
//   a chunk after the ring is full (mlx-lm's _update_concat + make_mask):
//                              the cache holds the sinks and the last
//                              max_kv_size - 5 positions, then the chunk, and
//                              query i of the chunk sees cache indices >= i.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "lm/model_util.h"
#include "uma/lm/generate.h"
#include "uma/lm/load.h"
#include "uma/uma.h"

using namespace uma;
using namespace uma::lm;
using uma::test::rel_err;

namespace {

constexpr int kKeep = 4;

// A full cache whose mask is given: the reference's whole-sequence forward.
class FixedMaskCache : public StandardKVCache {
 public:
  explicit FixedMaskCache(array mask) : mask_(std::move(mask)) {}
  AttentionMask make_mask(int, std::optional<int>) const override { return {"", mask_}; }

 private:
  array mask_;
};

// sees(i, j): whether position i attends to position j.
using Sees = std::function<bool(int i, int j)>;

// Logits (T, V) of the whole sequence with attention restricted by `sees`.
array reference_logits(Model& m, const std::vector<int>& ids, const Sees& sees) {
  int T = int(ids.size());
  std::vector<bool> keep(size_t(T) * T);
  for (int i = 0; i < T; ++i)
    for (int j = 0; j < T; ++j) keep[size_t(i) * T + j] = j <= i && sees(i, j);
  array mask(keep, {T, T});
  CacheList cache;
  for (int l = 0; l < m.num_layers(); ++l) cache.push_back(std::make_unique<FixedMaskCache>(mask));
  array logits = m(array(ids, {1, T}), &cache);
  return reshape(logits, {T, logits.shape(-1)});
}

array run(Model& m, const std::vector<int>& ids, CacheList& cache) {
  array logits = m(array(ids, {1, int(ids.size())}), &cache);
  return reshape(logits, {int(ids.size()), logits.shape(-1)});
}

array row(const array& x, int i) { return slice(x, {i, 0}, {i + 1, x.shape(1)}); }

std::vector<int> token_ids(int n, int vocab) {
  std::vector<int> ids(n);
  for (int i = 0; i < n; ++i) ids[i] = (37 * i + 11) % vocab;
  return ids;
}

// Decoding step at position p: sinks and the last max - keep positions.
bool decode_sees(int max, int p, int j) { return j < kKeep || p - j < max - kKeep; }

class RotatingCacheModel : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(RotatingCacheModel, OneTokenAtATimeKeepsFourSinks) {
  auto lm = load_model(test::model_fixture(GetParam()));
  Model& m = *lm.model;
  const int max = 10, T = 26;
  auto ids = token_ids(T, m.vocab_size());
  CacheList cache = m.make_cache(max);
  array want = reference_logits(m, ids, [&](int i, int j) { return decode_sees(max, i, j); });
  // Without sinks (a plain window of max) the logits must differ, or this
  // test could not tell the two apart.
  array window_only = reference_logits(m, ids, [&](int i, int j) { return i - j < max; });
  EXPECT_GT(rel_err(row(window_only, T - 1), row(want, T - 1)), 1e-3);
  for (int p = 0; p < T; ++p) {
    array got = run(m, {ids[p]}, cache);
    EXPECT_LE(rel_err(got, row(want, p)), 2e-5) << GetParam() << " at position " << p;
  }
  EXPECT_EQ(cache[0]->offset(), T);
}

TEST_P(RotatingCacheModel, ChunksLongerThanTheWindowThenDecode) {
  auto lm = load_model(test::model_fixture(GetParam()));
  Model& m = *lm.model;
  const int max = 10, first = 14, T = 46;
  auto ids = token_ids(T, m.vocab_size());
  // A first chunk of 14 (> max), decode to 22, a chunk of 3, decode to 30, a
  // chunk of 3, one token, and a chunk of 12 (> max) after the ring wrapped.
  struct Step {
    int begin, n;
  };
  std::vector<Step> steps{{0, first}};
  for (int p = first; p < 22; ++p) steps.push_back({p, 1});
  steps.push_back({22, 3});
  for (int p = 25; p < 30; ++p) steps.push_back({p, 1});
  steps.push_back({30, 3});
  steps.push_back({33, 1});
  steps.push_back({34, 12});
  // Which step each position belongs to, to build the mask row by row.
  std::vector<Step> owner(T);
  for (auto& s : steps)
    for (int i = s.begin; i < s.begin + s.n; ++i) owner[i] = s;
  Sees sees = [&](int i, int j) {
    Step s = owner[i];
    if (s.n == 1) return decode_sees(max, i, j);
    if (s.begin == 0) return i - j < max;
    // mlx-lm: the cache is the sinks and positions P-(max-1-keep)..P-1 (cache
    // indices keep..max-2), then the chunk; query q sees indices >= q.
    int P = s.begin, q = i - P;
    if (j < kKeep) return j >= q;
    return j >= P - max + 1 + std::max(q, kKeep);
  };
  array want = reference_logits(m, ids, sees);
  CacheList cache = m.make_cache(max);
  for (auto& s : steps) {
    std::vector<int> chunk(ids.begin() + s.begin, ids.begin() + s.begin + s.n);
    array got = run(m, chunk, cache);
    array w = slice(want, {s.begin, 0}, {s.begin + s.n, want.shape(1)});
    EXPECT_LE(rel_err(got, w), 2e-5)
        << GetParam() << " at positions " << s.begin << ".." << s.begin + s.n - 1;
  }
}

// generate_tokens with max_kv_size: greedy tokens are the argmax of the
// reference logits (teacher-forced on the generated tokens).
TEST_P(RotatingCacheModel, GreedyGenerationPastMaxKvSize) {
  auto lm = load_model(test::model_fixture(GetParam()));
  Model& m = *lm.model;
  const int max = 8, prompt_len = 5, n_gen = 20;
  auto prompt = token_ids(prompt_len, m.vocab_size());
  GenerateOptions opts;
  opts.max_tokens = n_gen;
  opts.max_kv_size = max;
  std::vector<int> got;
  generate_tokens(m, prompt, opts, [&](int t, const StepStats&) {
    got.push_back(t);
    return true;
  });
  ASSERT_EQ(int(got.size()), n_gen);
  std::vector<int> seq = prompt;
  seq.insert(seq.end(), got.begin(), got.end() - 1);
  array want = reference_logits(
      m, seq, [&](int i, int j) { return i < prompt_len ? i - j < max : decode_sees(max, i, j); });
  auto best = argmax(slice(want, {prompt_len - 1, 0}, {int(seq.size()), want.shape(1)}), -1)
                  .to_vector<uint32_t>();
  EXPECT_EQ(std::vector<int>(best.begin(), best.end()), got) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Architectures, RotatingCacheModel, ::testing::Values("llama", "qwen3"));
