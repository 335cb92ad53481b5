// Keys, key sequences and random bits: the only source of randomness.
#include "uma/core/ops/random.h"

#include <chrono>
#include <cstring>

#include "uma/core/ops/threefry.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitives/random.h"
#include "uma/core/utils.h"

namespace uma::random {

namespace impl {

array get_key(const std::optional<array>& key, const char* op) {
  if (!key) return KeySequence::default_().next();
  if (key->dtype() != uint32 || key->shape() != Shape{2}) {
    throw std::invalid_argument(std::string("[") + op + "] a key is a uint32 array of shape (2); got " +
                                dtype_name(key->dtype()) + " of shape " + shape_str(key->shape()));
  }
  return *key;
}

void check_shape(const Shape& shape, const char* op) {
  for (auto d : shape) {
    if (d < 0) throw std::invalid_argument(std::string("[") + op + "] negative dimension in shape " + shape_str(shape));
  }
}

}  // namespace impl

KeySequence::KeySequence(uint64_t seed) { this->seed(seed); }

void KeySequence::seed(uint64_t seed) {
  std::lock_guard lock(mutex_);
  key_[0] = uint32_t(seed >> 32);
  key_[1] = uint32_t(seed);
}

array KeySequence::next() {
  // split(key_) computed on the host: no lazy chain grows across calls.
  uint8_t words[16];
  std::lock_guard lock(mutex_);
  detail::random_bits_fill({key_[0], key_[1]}, words, 16, 0, detail::random_bits_pairs(16));
  uint32_t w[4];
  std::memcpy(w, words, 16);
  key_[0] = w[0];
  key_[1] = w[1];
  return array({w[2], w[3]});
}

KeySequence& KeySequence::default_() {
  static KeySequence ks(uint64_t(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count()));
  return ks;
}

array key(uint64_t seed) { return array({uint32_t(seed >> 32), uint32_t(seed)}); }

void seed(uint64_t seed) { KeySequence::default_().seed(seed); }

array bits(const Shape& shape, int width, const std::optional<array>& key, StreamOrDevice s) {
  impl::check_shape(shape, "bits");
  Dtype dtype = width == 4 ? uint32 : width == 2 ? uint16 : width == 1 ? uint8 : bool_;
  if (dtype == bool_) throw std::invalid_argument("[bits] width must be 1, 2 or 4 bytes, got " + std::to_string(width));
  array k = impl::get_key(key, "bits");
  return array(shape, dtype, std::make_shared<RandomBits>(to_stream(s), shape, width), {k});
}

std::pair<array, array> split(const array& key, StreamOrDevice s) {
  array keys = split(key, 2, s);
  return {reshape(slice(keys, {0, 0}, {1, 2}, s), {2}, s), reshape(slice(keys, {1, 0}, {2, 2}, s), {2}, s)};
}

array split(const array& key, int num, StreamOrDevice s) {
  if (num < 0) throw std::invalid_argument("[split] num must be non-negative, got " + std::to_string(num));
  return bits({num, 2}, 4, impl::get_key(key, "split"), s);
}

}  // namespace uma::random
