// Random numbers, MLX's API and algorithms: explicit keys (uint32 arrays of
// shape (2)) and a counter-based generator (Threefry-2x32), so a value
// depends only on the key and its position: never on threads or on the order
// of evaluation. Without a key, the global default key sequence supplies one
// (seed it with `seed`). uma draws the same bits as MLX for the same key
// (checked against MLX's own known answers) and uniform matches MLX's values;
// the other distributions follow MLX's formulas, so they agree with MLX up to
// the rounding of the elementary functions (erfinv, log), except where noted.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <utility>

#include "uma/core/array.h"
#include "uma/core/device.h"

namespace uma::random {

// The sequence of keys handed out when an op gets none: next() splits the
// current key into (new current, returned). The default sequence is global
// (one per process, thread-safe) and seeded from the clock until `seed`.
class KeySequence {
 public:
  explicit KeySequence(uint64_t seed);
  void seed(uint64_t seed);
  array next();
  static KeySequence& default_();

 private:
  std::mutex mutex_;
  uint32_t key_[2];
};

// A key from a seed: (seed >> 32, seed & 0xffffffff).
array key(uint64_t seed);
// Seeds the default key sequence.
void seed(uint64_t seed);

// Random bits of `shape`: uint32, uint16 or uint8 for width 4, 2 or 1.
array bits(const Shape& shape, int width = 4, const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});
inline array bits(const Shape& shape, const std::optional<array>& key, StreamOrDevice s = {}) {
  return bits(shape, 4, key, s);
}

// Two new keys, or `num` keys as a (num, 2) array.
std::pair<array, array> split(const array& key, StreamOrDevice s = {});
array split(const array& key, int num, StreamOrDevice s = {});

// Uniform in [low, high): low and high broadcast to `shape`. Floating dtypes
// (float64 computed from 32 random bits like the others).
array uniform(const array& low, const array& high, const Shape& shape, Dtype dtype = float32,
              const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});
template <typename T, typename U>
array uniform(T low, U high, const Shape& shape, Dtype dtype = float32, const std::optional<array>& key = std::nullopt,
              StreamOrDevice s = {}) {
  return uniform(array(low), array(high), shape, dtype, key, s);
}
array uniform(const Shape& shape, Dtype dtype, const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});
inline array uniform(const Shape& shape, const std::optional<array>& key = std::nullopt, StreamOrDevice s = {}) {
  return uniform(shape, float32, key, s);
}

// Normal: sqrt(2) * erfinv(u), u uniform in (-1, 1), times scale plus loc.
// complex64: real and imaginary parts each of variance 1/2.
array normal(const Shape& shape, Dtype dtype, const std::optional<array>& loc, const std::optional<array>& scale,
             const std::optional<array>& key, StreamOrDevice s = {});
inline array normal(const Shape& shape, Dtype dtype, float loc, float scale,
                    const std::optional<array>& key = std::nullopt, StreamOrDevice s = {}) {
  auto l = loc == 0 ? std::nullopt : std::make_optional(array(loc, dtype));
  auto sc = scale == 1 ? std::nullopt : std::make_optional(array(scale, dtype));
  return normal(shape, dtype, l, sc, key, s);
}
inline array normal(const Shape& shape, float loc, float scale, const std::optional<array>& key = std::nullopt,
                    StreamOrDevice s = {}) {
  return normal(shape, float32, loc, scale, key, s);
}
inline array normal(const Shape& shape, Dtype dtype, const std::optional<array>& key = std::nullopt,
                    StreamOrDevice s = {}) {
  return normal(shape, dtype, 0.f, 1.f, key, s);
}
inline array normal(const Shape& shape, const std::optional<array>& key = std::nullopt, StreamOrDevice s = {}) {
  return normal(shape, float32, 0.f, 1.f, key, s);
}

// Integers uniform in [low, high) (integer or bool dtype).
array randint(const array& low, const array& high, const Shape& shape, Dtype dtype = int32,
              const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});
template <typename T, typename U>
array randint(T low, U high, const Shape& shape, Dtype dtype = int32, const std::optional<array>& key = std::nullopt,
              StreamOrDevice s = {}) {
  return randint(array(low), array(high), shape, dtype, key, s);
}

// True with probability p (a floating array broadcast to `shape`).
array bernoulli(const array& p, const Shape& shape, const std::optional<array>& key = std::nullopt,
                StreamOrDevice s = {});
array bernoulli(const array& p, const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});
array bernoulli(const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});  // p = 0.5
template <typename T, typename = std::enable_if_t<std::is_floating_point_v<T>>>
array bernoulli(T p, const Shape& shape, const std::optional<array>& key = std::nullopt, StreamOrDevice s = {}) {
  return bernoulli(array(p), shape, key, s);
}

// Standard normal truncated to [lower, upper] (inverse-CDF method, as JAX).
array truncated_normal(const array& lower, const array& upper, const Shape& shape, Dtype dtype = float32,
                       const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});
array truncated_normal(const array& lower, const array& upper, Dtype dtype = float32,
                       const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});

// Standard Gumbel: -log(-log(u)).
array gumbel(const Shape& shape, Dtype dtype = float32, const std::optional<array>& key = std::nullopt,
             StreamOrDevice s = {});

// Samples indices (uint32) from unnormalized log-probabilities along `axis`
// by the Gumbel-max trick (MLX uses an inverse CDF instead when the logits
// are one distribution and `shape` is not empty: draws differ there). `shape` must broadcast with logits.shape without
// `axis`; num_samples draws that many per distribution (new last axis).
array categorical(const array& logits, int axis, const Shape& shape, const std::optional<array>& key = std::nullopt,
                  StreamOrDevice s = {});
array categorical(const array& logits, int axis, int num_samples, const std::optional<array>& key = std::nullopt,
                  StreamOrDevice s = {});
array categorical(const array& logits, int axis = -1, const std::optional<array>& key = std::nullopt,
                  StreamOrDevice s = {});

// Laplace(loc, scale) by the inverse CDF.
array laplace(const Shape& shape, Dtype dtype, float loc = 0.f, float scale = 1.f,
              const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});
inline array laplace(const Shape& shape, const std::optional<array>& key = std::nullopt, StreamOrDevice s = {}) {
  return laplace(shape, float32, 0.f, 1.f, key, s);
}

// A random permutation of 0..n-1 (uint32), or of x along `axis`.
array permutation(int n, const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});
array permutation(const array& x, int axis = 0, const std::optional<array>& key = std::nullopt,
                  StreamOrDevice s = {});

}  // namespace uma::random
