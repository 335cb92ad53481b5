// QuantizedKVCache: mlx-lm's (models/cache.py) with uma's quantize().
#include <functional>
#include <stdexcept>

#include "uma/core/ops.h"
#include "uma/lm/kv_cache.h"
#include "uma/lm/kv_cache_seq.h"

namespace uma::lm {

using detail::seq_slice;
using detail::seq_update;
using detail::zeros_like_seq;

namespace {

[[noreturn]] void fail(const std::string& msg) { throw std::invalid_argument("[QuantizedKVCache] " + msg); }

std::string shape_text(const array& a) {
  std::string s = "(";
  for (int i = 0; i < int(a.ndim()); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + ")";
}

// A (packed, scales, biases) triple of (B, H, T, *) arrays as quantize()
// makes them for head_dim = packed width * 32 / bits.
void check_triple(const QuantizedKVCache::Triple& t, const char* what, int group_size, int bits) {
  if (t.size() != 3) fail(std::string(what) + " need 3 arrays (packed, scales, biases), got " + std::to_string(t.size()));
  const array &w = t[0], &s = t[1], &b = t[2];
  if (w.ndim() != 4 || s.ndim() != 4 || b.ndim() != 4) fail(std::string(what) + " must be 4-d (B, H, T, *)");
  if (w.dtype() != uint32) fail(std::string(what) + ": the packed array must be uint32, got " + dtype_name(w.dtype()));
  if (s.dtype() != b.dtype() || !is_floating_point(s.dtype())) {
    fail(std::string(what) + ": scales and biases must share a float dtype, got " + dtype_name(s.dtype()) + " and " +
         dtype_name(b.dtype()));
  }
  int64_t dims = int64_t(w.shape(3)) * 32 / bits;
  if (int64_t(w.shape(3)) * 32 % bits != 0 || dims % group_size != 0) {
    fail(std::string(what) + ": a packed width of " + std::to_string(w.shape(3)) + " words is no whole number of " +
         std::to_string(group_size) + "-groups of " + std::to_string(bits) + "-bit codes");
  }
  for (int i = 0; i < 3; ++i) {
    if (s.shape(i) != w.shape(i) || b.shape(i) != w.shape(i) || s.shape(3) != dims / group_size || b.shape() != s.shape()) {
      fail(std::string(what) + ": packed " + shape_text(w) + ", scales " + shape_text(s) + " and biases " +
           shape_text(b) + " do not fit together for group_size " + std::to_string(group_size) + " and " +
           std::to_string(bits) + " bits");
    }
  }
}

QuantizedKVCache::Triple map(const QuantizedKVCache::Triple& t, const std::function<array(const array&)>& f) {
  return {f(t[0]), f(t[1]), f(t[2])};
}

// Zero triples for n positions of (B, H, *, dim), scales and biases in dtype.
QuantizedKVCache::Triple zero_triple(const array& x, int n, int group_size, int bits) {
  int B = x.shape(0), H = x.shape(1), D = x.shape(3);
  return {zeros({B, H, n, D * bits / 32}, uint32), zeros({B, H, n, D / group_size}, x.dtype()),
          zeros({B, H, n, D / group_size}, x.dtype())};
}

}  // namespace

QuantizedKVCache::QuantizedKVCache(int group_size, int bits, int step)
    : group_size_(group_size), bits_(bits), step_(step) {
  check_kv_quantization({bits, group_size, 0});
}

QuantizedKVCache::QuantizedKVCache(Triple keys, Triple values, int offset, int group_size, int bits)
    : QuantizedKVCache(group_size, bits) {
  check_triple(keys, "keys", group_size, bits);
  check_triple(values, "values", group_size, bits);
  if (keys[0].shape(2) != values[0].shape(2) || keys[0].shape(0) != values[0].shape(0) ||
      keys[0].shape(1) != values[0].shape(1)) {
    fail("keys " + shape_text(keys[0]) + " and values " + shape_text(values[0]) +
         " differ in batch, heads or positions");
  }
  if (offset < 0 || offset > keys[0].shape(2)) {
    fail("offset " + std::to_string(offset) + " is outside the " + std::to_string(keys[0].shape(2)) +
         " positions held");
  }
  keys_ = std::move(keys);
  values_ = std::move(values);
  offset_ = offset;
}

std::pair<QuantizedKVCache::Triple, QuantizedKVCache::Triple> QuantizedKVCache::update_and_fetch_quantized(
    const array& keys, const array& values) {
  int D = keys.shape(3), Dv = values.shape(3);
  if (D % group_size_ != 0 || Dv % group_size_ != 0) {
    fail("head_dim " + std::to_string(D % group_size_ ? D : Dv) + " is not divisible by the group size " +
         std::to_string(group_size_) + " (--kv-group-size)");
  }
  int prev = offset_, n = keys.shape(2);
  if (!keys_ || prev + n > (*keys_)[0].shape(2)) {
    int new_steps = (step_ + n - 1) / step_ * step_;
    if (keys_) {
      auto grow = [&](const Triple& t) {
        return map(t, [&](const array& x) {
          array kept = prev % step_ != 0 ? seq_slice(x, 0, prev) : x;
          return concatenate({kept, zeros_like_seq(x, new_steps)}, 2);
        });
      };
      keys_ = grow(*keys_);
      values_ = grow(*values_);
    } else {
      keys_ = zero_triple(keys, new_steps, group_size_, bits_);
      values_ = zero_triple(values, new_steps, group_size_, bits_);
    }
  }
  offset_ += n;
  Triple qk = quantize(keys, group_size_, bits_), qv = quantize(values, group_size_, bits_);
  for (int i = 0; i < 3; ++i) {
    (*keys_)[i] = seq_update((*keys_)[i], qk[i], prev);
    (*values_)[i] = seq_update((*values_)[i], qv[i], prev);
  }
  return held();
}

std::pair<QuantizedKVCache::Triple, QuantizedKVCache::Triple> QuantizedKVCache::held() const {
  if (!keys_) return {};
  auto cut = [&](const Triple& t) { return map(t, [&](const array& x) { return seq_slice(x, 0, offset_); }); };
  return {cut(*keys_), cut(*values_)};
}

std::pair<array, array> QuantizedKVCache::update_and_fetch(const array& keys, const array& values) {
  auto [k, v] = update_and_fetch_quantized(keys, values);
  Dtype t = keys.dtype();
  return {dequantize(k[0], k[1], k[2], group_size_, bits_, "affine", std::nullopt, t),
          dequantize(v[0], v[1], v[2], group_size_, bits_, "affine", std::nullopt, t)};
}

AttentionMask QuantizedKVCache::make_mask(int n, std::optional<int> window) const {
  // mlx-lm's create_attention_mask: the same as a standard cache's.
  if (window && offset_ + n > *window) return {"", create_causal_mask(n, offset_, window)};
  return n == 1 ? AttentionMask::none() : AttentionMask::causal();
}

int QuantizedKVCache::trim(int n) {
  n = std::min(offset_, n);
  offset_ -= n;
  return n;
}

std::vector<array> QuantizedKVCache::state() const {
  if (!keys_) return {};
  std::vector<array> all = *keys_;
  all.insert(all.end(), values_->begin(), values_->end());
  return all;
}

size_t QuantizedKVCache::nbytes() const {
  size_t n = 0;
  for (auto& a : state()) n += a.nbytes();
  return n;
}

std::vector<std::pair<std::string, array>> QuantizedKVCache::saved_state() const {
  if (!keys_) return {};
  auto [k, v] = offset_ == (*keys_)[0].shape(2) ? std::pair{*keys_, *values_} : held();
  std::vector<std::pair<std::string, array>> out;
  for (int i = 0; i < 3; ++i) out.emplace_back("0." + std::to_string(i), k[i]);
  for (int i = 0; i < 3; ++i) out.emplace_back("1." + std::to_string(i), v[i]);
  return out;
}

std::vector<std::string> QuantizedKVCache::meta_state() const {
  return {std::to_string(offset_), std::to_string(group_size_), std::to_string(bits_)};
}

}  // namespace uma::lm
