// GGUF K-quant blocks on the GPU (gguf_dequantize, gguf_matmul): decoding
// bit for bit as the CPU decodes, and products against the decoded matrix's
// product in float64 on the CPU (the GPU keeps x in float: the bound is
// float32 summation and the result's rounding).
#include "cuda/cuda_util.h"
#include "uma/core/io/gguf.h"
#include "uma/core/io/gguf_quants.h"

namespace uma::test {
namespace {

using io::gguf::GgmlType;

// N rows of K random values as blocks of `type` (llama.cpp's quantizers).
array blocks(uint32_t type, int N, int K, uint32_t seed) {
  array w = random_array({N, K}, float32, seed, -1, 1);
  auto v = w.to_vector<float>();
  const auto* t = io::gguf::type_traits(type);
  const int row_bytes = int(K / t->block_size * t->type_size);
  std::vector<uint8_t> b(size_t(N) * row_bytes);
  for (int n = 0; n < N; ++n) io::gguf::quantize(type, v.data() + size_t(n) * K, K, b.data() + size_t(n) * row_bytes);
  return array(b.data(), {N, row_bytes}, uint8);
}

const uint32_t kTypes[] = {uint32_t(GgmlType::Q4_K), uint32_t(GgmlType::Q5_K), uint32_t(GgmlType::Q6_K)};

TEST(CudaGguf, DequantizeIsBitExact) {
  NoFallback strict;
  for (uint32_t type : kTypes) {
    array w = blocks(type, 24, 768, type);
    for (Dtype t : {float32, float16, bfloat16}) {
      std::string what = std::string(io::gguf::type_traits(type)->name) + " " + dtype_name(t);
      expect_same(gguf_dequantize(w, type, t, gpu()), gguf_dequantize(w, type, t, cpu()), 0, 0, what);
    }
  }
}

TEST(CudaGguf, ProductsMatchTheDecodedMatrix) {
  NoFallback strict;
  for (uint32_t type : kTypes) {
    const int N = 72, K = 512;
    array w = blocks(type, N, K, 40 + type);
    array wf = astype(gguf_dequantize(w, type, float32, cpu()), float64, cpu());
    for (Dtype t : {float32, bfloat16, float16}) {
      for (int rows : {1, 3, 8, 37, 200}) {  // decode kernel, then decode + cuBLAS
        array x = random_array({rows, K}, t, 300 + rows, -1, 1);
        array got = gguf_matmul(x, w, type, gpu());
        eval(got);
        EXPECT_TRUE(on_gpu(got));
        // Beyond 16 rows W is decoded into x's dtype first.
        array wr = rows <= 16 ? wf : astype(gguf_dequantize(w, type, t, cpu()), float64, cpu());
        array ref = matmul(astype(x, float64, cpu()), transpose(wr, {1, 0}, cpu()), cpu());
        double tol = t == float32 ? 2e-4 : (t == float16 ? 2e-3 : 1.6e-2);
        std::string what = std::string(io::gguf::type_traits(type)->name) + " " + dtype_name(t) + " rows " +
                           std::to_string(rows);
        expect_same(astype(got, float64, cpu()), ref, tol, t == float32 ? 1e-3 : 0.05, what);
      }
    }
  }
}

}  // namespace
}  // namespace uma::test
