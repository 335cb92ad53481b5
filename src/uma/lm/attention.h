// The attention of a decoder layer over its KV cache: the one place that
// knows the cache kinds apart. A quantized cache (--kv-bits) is read with
// quantized_matmul as mlx-lm's quantized_scaled_dot_product_attention does
// (models/base.py): scores against the packed keys (transpose=true), the
// softmax, then against the packed values (transpose=false), queries of a
// GQA group reshaped to share their KV head; nothing is dequantized.
#pragma once

#include <optional>

#include "uma/lm/kv_cache.h"

namespace uma::lm {

// q: (B, H, L, D), k/v: (B, Hk, L, D) of the new positions (rope applied).
// Appends k/v to `cache` (none: attends to k/v alone) and returns (B, H, L, D).
// logit_cap: Gemma 2's tanh cap on the scores.
array cached_attention(const array& q, const array& k, const array& v, KVCache* cache, float scale,
                       const AttentionMask& mask, std::optional<float> logit_cap = std::nullopt);

// Attention against quantized keys/values, each a (packed, scales, biases)
// triple of (B, Hk, S, *) arrays. The scores are in q's dtype, masked with its
// lowest finite value, softmaxed in float32 (precise), as mlx-lm's.
array quantized_attention(const array& q, const QuantizedKVCache::Triple& keys, const QuantizedKVCache::Triple& values,
                          float scale, const AttentionMask& mask, int group_size, int bits,
                          std::optional<float> logit_cap = std::nullopt);

// cap * tanh(x / cap), in x's dtype (Gemma's soft-capping).
array softcap(const array& x, float cap);

// Gemma 2's attention with logit soft-capping, composed of ops (float32).
array softcapped_attention(const array& q, const array& k, const array& v, float scale, float cap,
                           const AttentionMask& mask);

}  // namespace uma::lm
