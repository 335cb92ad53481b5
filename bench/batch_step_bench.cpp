// One decode step of a batch of B sequences (lm/batch_generate.h's forward:
// projections and MLP over (B, 1), attention row by row over each sequence's
// own cache) against B = 1, on a real checkpoint: what batching can gain
// before any server is involved. Each sequence holds a prompt of `ctx`
// tokens. Reports the fastest of `runs` steps (the machine may be shared;
// the minimum is the least disturbed) and the median, per B, with the same
// forward without caches (the matmuls alone) beside it.
//
//   ./build/bin/batch_step_bench MODEL [runs=9] [ctx=64]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "bench_util.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/lm/kv_cache_batch.h"
#include "uma/lm/load.h"
#include "uma/uma.h"

using namespace uma;
using namespace uma::lm;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: batch_step_bench MODEL [runs=9] [ctx=64]\n");
    return 2;
  }
  const int runs = argc > 2 ? std::atoi(argv[2]) : 9, ctx = argc > 3 ? std::atoi(argv[3]) : 64;
  auto lm = load_model(argv[1]);
  Model& m = *lm.model;
  std::printf("batch_step_bench: %s, %d threads, prompts of %d tokens, %d runs\n", argv[1], cpu::num_threads(), ctx,
              runs);
  std::printf("| B | step min ms | step median ms | tokens/s (B / min) | no-cache forward min ms |\n");
  std::printf("|---|---|---|---|---|\n");
  for (int B : {1, 2, 4, 8}) {
    std::vector<CacheList> caches(static_cast<size_t>(B));
    std::vector<CacheList*> rows;
    for (int b = 0; b < B; ++b) {
      caches[size_t(b)] = m.make_cache();
      std::vector<int> p(size_t(ctx), 1000 + 7 * b);
      eval(m.last_logits(array(p.data(), {1, ctx}), &caches[size_t(b)]));
      rows.push_back(&caches[size_t(b)]);
    }
    std::vector<int> last(size_t(B), 500);
    std::vector<double> t;
    for (int r = 0; r < runs + 1; ++r) {
      double t0 = bench::seconds();
      CacheList batch = batch_caches(rows);
      array in(last.data(), {B, 1});
      eval(argmax(B == 1 ? m.last_logits(in, rows[0]) : m.last_logits(in, &batch), -1));
      if (r > 0) t.push_back(bench::seconds() - t0);  // the first warms up
    }
    std::sort(t.begin(), t.end());
    double plain = 1e9;
    for (int r = 0; r < 3; ++r) {
      double t0 = bench::seconds();
      eval(argmax(m.last_logits(array(last.data(), {B, 1}), nullptr), -1));
      plain = std::min(plain, bench::seconds() - t0);
    }
    std::printf("| %d | %.1f | %.1f | %.1f | %.1f |\n", B, t[0] * 1e3, t[t.size() / 2] * 1e3, B / t[0], plain * 1e3);
    std::fflush(stdout);
  }
  return 0;
}
