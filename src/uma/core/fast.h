// Fused fast paths (MLX's mx.fast). Each has a CPU kernel and a reference
// composed of plain ops (the `*_reference` functions), used by tests, by
// transforms and by backends without the kernel.
#pragma once

#include <optional>
#include <string>

#include "uma/core/array.h"
#include "uma/core/device.h"

namespace uma::fast {

// x * rsqrt(mean(x^2, -1) + eps) * weight, accumulated in float32; output in
// x's dtype. weight: (D) or absent.
array rms_norm(const array& x, const std::optional<array>& weight, float eps, StreamOrDevice s = {});
array rms_norm_reference(const array& x, const std::optional<array>& weight, float eps, StreamOrDevice s = {});

// (x - mean) * rsqrt(var + eps) * weight + bias over the last axis.
array layer_norm(const array& x, const std::optional<array>& weight, const std::optional<array>& bias, float eps,
                 StreamOrDevice s = {});
array layer_norm_reference(const array& x, const std::optional<array>& weight, const std::optional<array>& bias,
                           float eps, StreamOrDevice s = {});

// Rotary embedding of the first `dims` features of the last axis of x
// (..., T, D), positions offset..offset+T-1 (offset is an int or an int32
// array of shape (B) for per-sequence offsets). `traditional` rotates
// interleaved pairs (x0,x1); otherwise halves (x[:d/2], x[d/2:]) as GPT-NeoX/
// Llama in transformers. Frequencies are base^(-2i/dims) * scale positions,
// or position * scale / freqs[i] when `freqs` (dims/2) is given.
array rope(const array& x, int dims, bool traditional, std::optional<float> base, float scale, int offset,
           const std::optional<array>& freqs = std::nullopt, StreamOrDevice s = {});
array rope(const array& x, int dims, bool traditional, std::optional<float> base, float scale, const array& offset,
           const std::optional<array>& freqs = std::nullopt, StreamOrDevice s = {});
array rope_reference(const array& x, int dims, bool traditional, std::optional<float> base, float scale,
                     const array& offset, const std::optional<array>& freqs = std::nullopt, StreamOrDevice s = {});

// softmax(q k^T * scale + mask) v with grouped-query attention.
// q: (B, Hq, Tq, D), k/v: (B, Hkv, Tk, D[v]), Hq % Hkv == 0.
// mask_mode: "" (none or `mask` array), "causal" (query i sees keys
// <= i + Tk - Tq). `mask` is boolean (true = keep) or additive, broadcastable
// to (B, Hq, Tq, Tk). Accumulates in float32; output in q's dtype.
array scaled_dot_product_attention(const array& q, const array& k, const array& v, float scale,
                                   const std::string& mask_mode = "", const std::optional<array>& mask = std::nullopt,
                                   StreamOrDevice s = {});
array scaled_dot_product_attention_reference(const array& q, const array& k, const array& v, float scale,
                                             const std::string& mask_mode = "",
                                             const std::optional<array>& mask = std::nullopt, StreamOrDevice s = {});

}  // namespace uma::fast
