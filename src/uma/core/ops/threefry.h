// Threefry-2x32 with 20 rounds (Salmon et al., "Parallel random numbers: as
// easy as 1, 2, 3", SC'11; Random123), and MLX's layout of random bits over
// counters, so that uma draws the same bits as MLX (and JAX) for a key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

namespace uma::detail {

using u32x2 = std::pair<uint32_t, uint32_t>;

inline u32x2 threefry2x32(u32x2 key, u32x2 ctr) {
  constexpr uint32_t rot[2][4] = {{13, 15, 26, 6}, {17, 29, 16, 24}};
  const uint32_t ks[3] = {key.first, key.second, key.first ^ key.second ^ 0x1BD11BDAu};
  uint32_t x0 = ctr.first + ks[0], x1 = ctr.second + ks[1];
  for (uint32_t i = 0; i < 5; ++i) {
    for (uint32_t r : rot[i % 2]) {
      x0 += x1;
      x1 = (x1 << r) | (x1 >> (32 - r));
      x1 ^= x0;
    }
    // Key injection after every four rounds.
    x0 += ks[(i + 1) % 3];
    x1 += ks[(i + 2) % 3] + i + 1;
  }
  return {x0, x1};
}

// MLX's layout for one key filling `bytes` bytes: W = ceil(bytes / 4) words,
// h = W / 2. Counter (p, p + ceil(W / 2)) gives words p and p + ceil(W / 2)
// for p < h; when W is odd, counter (h, 0) gives word h (first output). A
// trailing partial word keeps its low bytes. Pairs are independent, so any
// split of [0, random_bits_pairs(bytes)) among threads gives the same bits.
inline size_t random_bits_pairs(size_t bytes) {
  size_t w = (bytes + 3) / 4;
  return w / 2 + w % 2;
}

inline void random_bits_fill(u32x2 key, uint8_t* out, size_t bytes, size_t pair_begin, size_t pair_end) {
  size_t w = (bytes + 3) / 4, half = w / 2, odd = w % 2;
  auto put = [&](size_t word, uint32_t v) {
    size_t n = 4 * word + 4 <= bytes ? 4 : bytes - 4 * word;
    std::memcpy(out + 4 * word, &v, n);  // little-endian: low bytes first
  };
  for (size_t p = pair_begin; p < pair_end; ++p) {
    if (p < half) {
      auto r = threefry2x32(key, {uint32_t(p), uint32_t(p + half + odd)});
      put(p, r.first);
      put(p + half + odd, r.second);
    } else {
      put(half, threefry2x32(key, {uint32_t(half), 0u}).first);
    }
  }
}

}  // namespace uma::detail
