// The prompt cache shared across requests (lm/prefix_cache.h): a second
// prompt sharing a prefix with the first prefills only the rest (counted in
// tokens fed) and answers as it would alone; the entry a request starts from
// is never changed by it; least-recently-used eviction under a byte budget;
// entries that a longer one serves are dropped; wrapped rotating caches are
// used only where they need no trimming.
#include <gtest/gtest.h>

#include <random>

#include "lm/model_util.h"
#include "uma/lm/batch_generate.h"
#include "uma/lm/load.h"
#include "uma/lm/prefix_cache.h"
#include "uma/uma.h"

using namespace uma;
using namespace uma::lm;

namespace {

std::vector<int> tokens(int n, unsigned seed, int vocab = 512) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(3, vocab - 1);
  std::vector<int> out;
  for (int i = 0; i < n; ++i) out.push_back(d(rng));
  return out;
}

std::vector<int> join(std::vector<int> a, const std::vector<int>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<int> alone(Model& m, const std::vector<int>& prompt, int max_tokens) {
  GenerateOptions o;
  o.max_tokens = max_tokens;
  std::vector<int> out;
  TokenGenerator gen(m, prompt, o);
  while (auto t = gen.next()) out.push_back(*t);
  return out;
}

struct Served {
  std::vector<int> tokens;
  int prefilled = 0;  // prompt tokens fed through the model
  int reused = 0;     // prompt tokens the prefix cache held
};

// One request through a BatchGenerator, starting from what `pc` holds and
// leaving its caches there, as the server does.
Served request(Model& m, PrefixCache& pc, const std::vector<int>& prompt, int max_tokens) {
  BatchGenerator batch(m);
  GenerateOptions o;
  o.max_tokens = max_tokens;
  auto hit = pc.fetch(prompt);
  Served r;
  r.reused = hit.tokens;
  uint64_t id = batch.insert(prompt, o, std::move(hit.cache));
  while (!batch.empty()) {
    for (auto& out : batch.step()) {
      EXPECT_TRUE(out.error.empty()) << out.error;
      if (out.token) r.tokens.push_back(*out.token);
      if (out.finished) {
        r.prefilled = batch.prefilled(id);
        std::vector<int> held;
        CacheList c = batch.remove(id, &held);
        EXPECT_EQ(held.size(), prompt.size() + size_t(max_tokens) - 1);
        pc.insert(held, c);
      }
    }
  }
  return r;
}

TEST(PrefixCache, ASharedSystemPromptIsPrefilledOnce) {
  auto lm = load_model(test::model_fixture("llama"));
  Model& m = *lm.model;
  PrefixCache pc(64 << 20);
  auto system = tokens(40, 1), q1 = tokens(7, 2), q2 = tokens(5, 3);
  q2[0] = q1[0] == 9 ? 10 : 9;  // the questions differ from their first token
  Served a = request(m, pc, join(system, q1), 8);
  EXPECT_EQ(a.reused, 0);
  EXPECT_EQ(a.prefilled, 47);
  EXPECT_EQ(a.tokens, alone(m, join(system, q1), 8));
  Served b = request(m, pc, join(system, q2), 8);
  EXPECT_EQ(b.reused, 40);
  EXPECT_EQ(b.prefilled, 5);  // the new question only
  EXPECT_EQ(b.tokens, alone(m, join(system, q2), 8));
  // The first conversation's entry was not changed by the second request:
  // its next turn (the answer, then a new question) reuses all of it.
  auto turn2 = join(join(join(system, q1), a.tokens), tokens(4, 4));
  Served c = request(m, pc, turn2, 6);
  EXPECT_EQ(c.reused, 47 + 8 - 1);  // the last answer token was never fed
  EXPECT_EQ(c.prefilled, int(turn2.size()) - c.reused);
  EXPECT_EQ(c.tokens, alone(m, turn2, 6));
  // The same prompt again: all but its last token come from the cache.
  Served d = request(m, pc, join(system, q2), 8);
  EXPECT_EQ(d.reused, 44);
  EXPECT_EQ(d.prefilled, 1);
  EXPECT_EQ(d.tokens, b.tokens);
  EXPECT_EQ(pc.counters().hits, 3);
  EXPECT_EQ(pc.counters().misses, 1);
  EXPECT_EQ(pc.counters().reused_tokens, 40 + 54 + 44);
}

TEST(PrefixCache, LeastRecentlyUsedGoFirstUnderTheByteBudget) {
  auto lm = load_model(test::model_fixture("llama"));
  Model& m = *lm.model;
  auto held = [&](const std::vector<int>& t) {
    CacheList c = m.make_cache();
    m(array(t.data(), {1, int(t.size())}), &c);
    return c;
  };
  auto a = tokens(10, 11), b = tokens(10, 12), c = tokens(10, 13), d = tokens(10, 14);
  a[0] = 3, b[0] = 4, c[0] = 5, d[0] = 6;
  CacheList ca = held(a);
  // An entry's bytes: its ten positions' keys and values, copied out of the
  // 256-position buffers the caches grew (which it must not keep alive).
  ASSERT_GT(m.kv_heads(), 0);
  const size_t one = size_t(m.num_layers()) * 2 * size_t(m.kv_heads()) * 10 * size_t(m.kv_head_dim()) *
                     size_of(lm.dtype);
  eval(ca[0]->state());
  ASSERT_LT(one, size_t(m.num_layers()) * 2 * ca[0]->state()[0].buffer().size);
  PrefixCache pc(3 * one);  // room for three entries of ten tokens
  pc.insert(a, ca);
  pc.insert(b, held(b));
  pc.insert(c, held(c));
  EXPECT_EQ(pc.entries(), (std::vector<std::vector<int>>{c, b, a}));
  EXPECT_EQ(pc.nbytes(), 3 * one);
  // Using a makes b the least recently used: d pushes b out.
  EXPECT_EQ(pc.fetch(join(a, {7})).tokens, 10);
  pc.insert(d, held(d));
  EXPECT_EQ(pc.entries(), (std::vector<std::vector<int>>{d, a, c}));
  EXPECT_EQ(pc.counters().evictions, 1);
  EXPECT_LE(pc.nbytes(), pc.max_bytes());
  EXPECT_EQ(pc.fetch(join(b, {7})).tokens, 0);  // gone
  // A longer entry serves its prefixes: a's entry goes when a + more comes.
  auto longer = join(a, tokens(3, 15));
  pc.insert(longer, held(longer));
  auto e = pc.entries();
  EXPECT_EQ(e.front(), longer);
  EXPECT_EQ(std::count(e.begin(), e.end(), a), 0);
  // Inserting what an entry already holds keeps that entry.
  pc.insert(a, held(a));
  EXPECT_EQ(pc.entries().front(), longer);
  // Caches larger than the whole budget are not kept.
  PrefixCache tiny(one / 2);
  tiny.insert(a, held(a));
  EXPECT_EQ(tiny.size(), 0u);
}

// Gemma 2's sliding-window layers keep 8 positions in rotating caches: an
// entry that has wrapped cannot drop its tail, so it serves only prompts
// that extend all of it.
TEST(PrefixCache, WrappedRotatingCachesAreUsedWhole) {
  auto lm = load_model(test::model_fixture("gemma2"));
  Model& m = *lm.model;
  PrefixCache pc(64 << 20);
  auto p = tokens(20, 21);
  Served a = request(m, pc, p, 5);
  auto next = join(join(p, a.tokens), tokens(3, 22));
  Served b = request(m, pc, next, 5);
  EXPECT_EQ(b.reused, 24);
  EXPECT_EQ(b.tokens, alone(m, next, 5));
  // Diverging inside the held tokens: the wrapped entries cannot be trimmed.
  auto other = join(std::vector<int>(p.begin(), p.begin() + 12), tokens(4, 23));
  Served c = request(m, pc, other, 5);
  EXPECT_EQ(c.reused, 0);
  EXPECT_EQ(c.tokens, alone(m, other, 5));
}

// Quantized caches (--kv-bits) are copied and trimmed too.
TEST(PrefixCache, QuantizedCachesAreShared) {
  auto lm = load_model(test::model_fixture("qwen3"));
  Model& m = *lm.model;
  ASSERT_EQ(m.kv_head_dim() % 32, 0);
  auto system = tokens(30, 31), q1 = tokens(4, 32), q2 = tokens(4, 33);
  q2[0] = q1[0] == 9 ? 10 : 9;
  GenerateOptions o;
  o.max_tokens = 6;
  o.kv_quant = KVQuantization{8, 32, 0};
  PrefixCache pc(64 << 20);
  std::vector<std::vector<int>> got;
  for (auto& prompt : {join(system, q1), join(system, q2)}) {
    BatchGenerator batch(m);
    auto hit = pc.fetch(prompt);
    uint64_t id = batch.insert(prompt, o, std::move(hit.cache));
    got.emplace_back();
    while (!batch.empty()) {
      for (auto& out : batch.step()) {
        ASSERT_TRUE(out.error.empty()) << out.error;
        got.back().push_back(*out.token);
        if (out.finished) {
          std::vector<int> held;
          CacheList c = batch.remove(id, &held);
          EXPECT_NE(dynamic_cast<QuantizedKVCache*>(c[0].get()), nullptr);
          pc.insert(held, c);
        }
      }
    }
    std::vector<int> want;
    TokenGenerator gen(m, prompt, o);
    while (auto t = gen.next()) want.push_back(*t);
    EXPECT_EQ(got.back(), want);
  }
  EXPECT_EQ(pc.counters().reused_tokens, 30);
}

}  // namespace
