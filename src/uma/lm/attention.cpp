#include "uma/lm/attention.h"

#include <cfloat>
#include <cmath>

#include "uma/core/fast.h"
#include "uma/core/ops.h"

namespace uma::lm {

namespace {

// mx.finfo(t).min
array lowest(Dtype t) {
  if (t == float16) return astype(array(-65504.0f), t);
  if (t == bfloat16) return astype(array(-3.38953139e38f), t);
  return astype(array(-FLT_MAX), t);
}

// scores: (B, Hk, rep, L, S). The mask as a boolean array that broadcasts
// against it, or nullopt for none.
std::optional<array> mask_for(const AttentionMask& mask, const Shape& scores) {
  int nd = int(scores.size());
  int L = scores[nd - 2], S = scores[nd - 1];
  if (mask.mode == "causal") {
    return greater_equal(reshape(arange(S - L, S), {L, 1}), reshape(arange(0, S), {1, S}));
  }
  if (!mask.mask) return std::nullopt;
  array m = *mask.mask;
  // A per-head mask (B, H, L, S): split H into (Hk, rep) as the scores are.
  if (m.ndim() == 4) m = reshape(broadcast_to(m, {scores[0], scores[1] * scores[2], L, S}), scores);
  return m;
}

}  // namespace

array softcap(const array& x, float cap) {
  return multiply(tanh(divide(x, array(cap, x.dtype()))), array(cap, x.dtype()));
}

array softcapped_attention(const array& q, const array& k, const array& v, float scale, float cap,
                           const AttentionMask& mask) {
  int B = q.shape(0), H = q.shape(1), L = q.shape(2), D = q.shape(3), Hk = k.shape(1);
  int rep = H / Hk;
  array qf = reshape(astype(q, float32), {B, Hk, rep, L, D});
  array kf = expand_dims(astype(k, float32), 2);
  array vf = expand_dims(astype(v, float32), 2);
  array scores = softcap(multiply(matmul(qf, swapaxes(kf, -1, -2)), array(scale)), cap);
  if (auto m = mask_for(mask, scores.shape())) scores = where(*m, scores, array(-INFINITY));
  array o = matmul(softmax(scores, -1, true), vf);
  return astype(reshape(o, {B, H, L, v.shape(3)}), q.dtype());
}

array quantized_attention(const array& q, const QuantizedKVCache::Triple& keys, const QuantizedKVCache::Triple& values,
                          float scale, const AttentionMask& mask, int group_size, int bits,
                          std::optional<float> logit_cap) {
  int B = q.shape(0), H = q.shape(1), L = q.shape(2), D = q.shape(3), Hk = keys[0].shape(1);
  int rep = H / Hk;
  // (B, Hk, rep, L, D) queries against (B, Hk, 1, S, *) keys: one KV head
  // serves its group of query heads without repeating it.
  array qs = reshape(multiply(q, array(scale, q.dtype())), {B, Hk, rep, L, D});
  auto group = [](const QuantizedKVCache::Triple& t) {
    return QuantizedKVCache::Triple{expand_dims(t[0], 2), expand_dims(t[1], 2), expand_dims(t[2], 2)};
  };
  auto k = group(keys), v = group(values);
  array scores = quantized_matmul(qs, k[0], k[1], k[2], /*transpose=*/true, group_size, bits);
  if (logit_cap) scores = softcap(scores, *logit_cap);
  if (auto m = mask_for(mask, scores.shape())) scores = where(*m, scores, lowest(scores.dtype()));
  scores = softmax(scores, -1, /*precise=*/true);
  array out = quantized_matmul(scores, v[0], v[1], v[2], /*transpose=*/false, group_size, bits);
  return reshape(out, {B, H, L, out.shape(-1)});
}

array cached_attention(const array& q, const array& k, const array& v, KVCache* cache, float scale,
                       const AttentionMask& mask, std::optional<float> logit_cap) {
  if (auto* qc = dynamic_cast<QuantizedKVCache*>(cache)) {
    auto [qk, qv] = qc->update_and_fetch_quantized(k, v);
    return quantized_attention(q, qk, qv, scale, mask, qc->group_size(), qc->bits(), logit_cap);
  }
  array keys = k, values = v;
  if (cache) std::tie(keys, values) = cache->update_and_fetch(k, v);
  if (logit_cap) return softcapped_attention(q, keys, values, scale, *logit_cap, mask);
  return fast::scaled_dot_product_attention(q, keys, values, scale, mask.mode, mask.mask);
}

}  // namespace uma::lm
