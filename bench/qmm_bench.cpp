// quantized_matmul benchmark: MLX-layout 4- and 8-bit (group 64) weights,
// x @ W.T, decode (M = 1) and prefill (M = 128) at Llama-like shapes, against
// the bfloat16 matmul of the same (dequantized) matrix, and against
// dequantize + matmul on every call. Decode is reported as
// GB/s of weight bytes read (packed codes + bf16 scales and biases).
// Each timed call reads the next of enough copies of W (at least 256 MiB in
// all) that it comes from memory, not from the last-level cache, as a
// model's weights do; --warm 1 reuses one copy (the cache-resident figure).
// --gguf q4_k|q5_k|q6_k|q8_0|q4_0|q4_0x8|q8_0x8 times gguf_matmul on blocks of that GGUF
// type instead (the bits column then names the type; bytes are the blocks').
//
//   qmm_bench [--threads N] [--reps R] [--shape N K] [--m M] [--bits B] [--warm 1] [--gguf TYPE]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bench_util.h"
#include "uma/backend/cpu/cpu_features.h"
#include "uma/backend/cpu/quantized.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/core/io/gguf.h"
#include "uma/core/io/gguf_quants.h"
#include "uma/uma.h"

using namespace uma;

namespace {

// The GGUF type id of a lowercase name ("q4_k"), or -1.
int64_t gguf_type(const std::string& name) {
  if (name == "q4_0x8") return kGgufQ4_0x8;
  if (name == "q8_0x8") return kGgufQ8_0x8;
  for (uint32_t t = 0; t < 64; ++t) {
    const auto* tr = io::gguf::type_traits(t);
    if (!tr) continue;
    std::string n = tr->name;
    for (auto& c : n) c = char(std::tolower(c));
    if (n == name) return t;
  }
  return -1;
}

// W (N, K) as rows of GGUF blocks of `type`, and its decoded bfloat16 copy.
std::pair<array, array> gguf_blocks(const array& w, uint32_t type) {
  auto v = astype(w, float32).to_vector<float>();
  const int N = w.shape(0), K = w.shape(1);
  const uint32_t file_type = gguf_stored_type(type);
  const auto* t = io::gguf::type_traits(file_type);
  const int64_t row_bytes = K / t->block_size * t->type_size;
  std::vector<uint8_t> b(size_t(N * row_bytes));
  uma::cpu::parallel_for(size_t(N), 16, [&](size_t lo, size_t hi) {
    for (size_t n = lo; n < hi; ++n) io::gguf::quantize(file_type, v.data() + n * K, K, b.data() + n * row_bytes);
  });
  if (file_type != type) {  // the loader's interleaved layout
    std::vector<uint8_t> x8(b.size());
    gguf_interleave_x8(type, [&](int64_t n) { return b.data() + n * row_bytes; }, row_bytes, 0, N / 8, x8.data());
    b.swap(x8);
  }
  array blocks(b.data(), {N, int(row_bytes)}, uint8);
  array dense = gguf_dequantize(blocks, type, bfloat16);
  eval({blocks, dense});
  return {blocks, dense};
}

}  // namespace

// The same x for every product of one shape.
array x_of(int M, int K) {
  static std::map<std::pair<int, int>, array> xs;
  auto it = xs.find({M, K});
  if (it == xs.end()) it = xs.emplace(std::make_pair(M, K), bench::random_array({M, K}, bfloat16, 7)).first;
  return it->second;
}

int main(int argc, char** argv) {
  int reps = 9;
  bool warm = false;
  int64_t gguf = -1;
  std::vector<std::pair<int, int>> shapes = {{4096, 4096}, {14336, 4096}, {4096, 14336}};
  std::vector<int> ms = {1, 128}, bits_list = {4, 8};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) cpu::set_num_threads(std::atoi(argv[i + 1]));
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--m")) ms = {std::atoi(argv[i + 1])};
    if (!std::strcmp(argv[i], "--bits")) bits_list = {std::atoi(argv[i + 1])};
    if (!std::strcmp(argv[i], "--warm")) warm = std::atoi(argv[i + 1]) != 0;
    if (!std::strcmp(argv[i], "--gguf")) {
      gguf = gguf_type(argv[i + 1]);
      if (gguf < 0 || !gguf_type_kernels(uint32_t(gguf))) {
        std::fprintf(stderr, "qmm_bench: --gguf %s is not a block type gguf_matmul takes\n", argv[i + 1]);
        return 2;
      }
      bits_list = {0};
    }
    if (!std::strcmp(argv[i], "--shape") && i + 2 < argc) {
      shapes = {{std::atoi(argv[i + 1]), std::atoi(argv[i + 2])}};
      ++i;
    }
  }
  std::printf("CPU: %s, tier %s, %d threads, W %s\n\n", cpu::cpu_features().brand.c_str(),
              cpu::tier_name(cpu::cpu_tier()), cpu::num_threads(), warm ? "cache-resident" : "from memory");
  std::printf(
      "| bits | M | N x K | qmm ms | GB/s (weights) | bf16 matmul ms | ratio | dequantize + matmul ms | ratio |\n"
      "|---|---|---|---|---|---|---|---|---|\n");
  for (int bits : bits_list) {
    for (int M : ms) {
      for (auto [N, K] : shapes) {
        array w = bench::random_array({N, K}, bfloat16, uint64_t(N + K));
        std::vector<array> q;
        array wd(0.f);
        if (gguf >= 0) {
          auto [blocks, dense] = gguf_blocks(w, uint32_t(gguf));
          q = {blocks};
          wd = dense;
        } else {
          q = quantize(w, 64, bits);
          eval(q);
          wd = dequantize(q[0], q[1], q[2], 64, bits);
          eval({wd});
        }
        // y = x @ W.T with copy c of the packed W, and its decoding alone.
        auto qmm = [&](const std::vector<array>& c) {
          return gguf >= 0 ? gguf_matmul(x_of(M, K), c[0], uint32_t(gguf))
                           : quantized_matmul(x_of(M, K), c[0], c[1], c[2], true, 64, bits);
        };
        auto decoded = [&](const std::vector<array>& c) {
          return gguf >= 0 ? gguf_dequantize(c[0], uint32_t(gguf), bfloat16) : dequantize(c[0], c[1], c[2], 64, bits);
        };
        array wdt = transpose(wd);
        array x = x_of(M, K);
        double bytes = 0;
        for (auto& a : q) bytes += double(a.nbytes());
        // Copies of the quantized and the bfloat16 W, used in turn.
        size_t copies = warm ? 1 : size_t(std::max(2.0, std::ceil((256 << 20) / bytes)));
        std::vector<std::vector<array>> qs = {q};
        std::vector<array> wts = {wdt};
        for (size_t c = 1; c < copies; ++c) {
          std::vector<array> more;
          for (auto& a : q) more.push_back(copy(a));
          qs.push_back(more);
          eval(qs.back());
        }
        for (size_t c = 1; c < std::max<size_t>(1, copies / 4); ++c) {  // bf16 W is 4-2x larger
          wts.push_back(transpose(copy(wd)));
          eval({wts.back()});
        }
        size_t iq = 0, iw = 0;
        double tq = bench::median_seconds(reps, [&] {
          auto& c = qs[iq++ % qs.size()];
          eval({qmm(c)});
        });
        double tf = bench::median_seconds(reps, [&] { eval({matmul(x, wts[iw++ % wts.size()])}); });
        // dequantize + matmul on every call: what running without a quantized kernel costs.
        size_t id = 0;
        double td = bench::median_seconds(reps, [&] {
          auto& c = qs[id++ % qs.size()];
          eval({matmul(x, transpose(decoded(c)))});
        });
        std::string what = gguf >= 0 ? gguf_traits(uint32_t(gguf))->name : std::to_string(bits);
        std::printf("| %s | %d | %d x %d | %.3f | %.1f | %.3f | %.2fx | %.3f | %.2fx |\n", what.c_str(), M, N, K, tq * 1e3,
                    bytes / tq / 1e9, tf * 1e3, tf / tq, td * 1e3, td / tq);
      }
    }
  }
  return 0;
}
