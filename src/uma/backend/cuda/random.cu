// CUDA kernel of RandomBits: the same Threefry-2x32 (20 rounds) and the same
// layout of words over counters as the CPU (core/ops/threefry.h), so the bits
// are identical for a key on either backend. One thread per counter pair.
#include "uma/backend/cuda/indexing_utils.cuh"
#include "uma/core/ops/threefry.h"
#include "uma/core/primitives/random.h"

namespace uma {

namespace cuda::ix {
namespace {

__device__ inline uint2 threefry2x32(uint32_t k0, uint32_t k1, uint32_t c0, uint32_t c1) {
  const uint32_t ks[3] = {k0, k1, k0 ^ k1 ^ 0x1BD11BDAu};
  const uint32_t rot[2][4] = {{13, 15, 26, 6}, {17, 29, 16, 24}};
  uint32_t x0 = c0 + ks[0], x1 = c1 + ks[1];
#pragma unroll
  for (uint32_t i = 0; i < 5; ++i) {
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      uint32_t r = rot[i % 2][j];
      x0 += x1;
      x1 = (x1 << r) | (x1 >> (32 - r));
      x1 ^= x0;
    }
    x0 += ks[(i + 1) % 3];
    x1 += ks[(i + 2) % 3] + i + 1;
  }
  return make_uint2(x0, x1);
}

// Word `word` of a key's block of `bytes` bytes; a trailing partial word keeps
// its low bytes. Whole aligned words store as one uint32.
__device__ inline void put_word(uint8_t* out, size_t bytes, size_t word, uint32_t v, bool aligned) {
  size_t b0 = 4 * word;
  if (aligned && b0 + 4 <= bytes) {
    *reinterpret_cast<uint32_t*>(out + b0) = v;
    return;
  }
  for (size_t b = 0; b < 4 && b0 + b < bytes; ++b) out[b0 + b] = uint8_t(v >> (8 * b));
}

// keys: (num_keys, 2) row-major; each key fills bytes_per_key bytes of out.
__global__ void random_bits_kernel(const uint32_t* keys, uint8_t* out, int64_t num_keys,
                                   size_t bytes_per_key, size_t pairs, bool aligned) {
  size_t w = (bytes_per_key + 3) / 4, half = w / 2, odd = w % 2;
  int64_t total = num_keys * int64_t(pairs);
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total;
       t += int64_t(gridDim.x) * blockDim.x) {
    int64_t key = t / int64_t(pairs);
    size_t p = size_t(t - key * int64_t(pairs));
    uint32_t k0 = keys[2 * key], k1 = keys[2 * key + 1];
    uint8_t* base = out + size_t(key) * bytes_per_key;
    if (p < half) {
      uint2 r = threefry2x32(k0, k1, uint32_t(p), uint32_t(p + half + odd));
      put_word(base, bytes_per_key, p, r.x, aligned);
      put_word(base, bytes_per_key, p + half + odd, r.y, aligned);
    } else {
      put_word(base, bytes_per_key, half, threefry2x32(k0, k1, uint32_t(half), 0u).x, aligned);
    }
  }
}

}  // namespace
}  // namespace cuda::ix

void RandomBits::eval_gpu(const std::vector<array>& inputs, array& out) {
  const Stream& s = stream();
  const array& keys = inputs[0];
  void* dst = cuda::out_ptr(out, s);
  int64_t num_keys = int64_t(keys.size() / 2);
  if (num_keys == 0 || out.size() == 0) return;
  // The keys as row-major uint32 on the device (any layout or dtype given).
  array k = keys;
  if (keys.dtype() != uint32 || !keys.flags().row_contiguous || keys.data_size() != keys.size()) {
    k = array(keys.shape(), uint32, nullptr, {});
    cuda::copy_to_new(keys, k, s);
  }
  size_t bytes_per_key = out.nbytes() / size_t(num_keys);
  size_t pairs = random::random_bits_pairs(bytes_per_key);
  if (pairs == 0) return;
  bool aligned = bytes_per_key % 4 == 0;
  int64_t total = num_keys * int64_t(pairs);
  cuda::ix::random_bits_kernel<<<cuda::ix::grid_for(total, 256), 256, 0, cuda::stream(s)>>>(
      cuda::in<uint32_t>(k, s), static_cast<uint8_t*>(dst), num_keys, bytes_per_key, pairs,
      aligned);
  UMA_CUDA_LAUNCHED("random_bits");
}

}  // namespace uma
