// The fused fast kernels on the GPU (RMSNorm, LayerNorm, RoPE,
// ScaledDotProductAttention) against the CPU kernels and the ops-composed
// references. The primitives are built on the GPU stream directly, with the
// inputs the fast ops would give them, so these tests run the CUDA kernels
// whatever route the public ops take on a GPU stream.
#include <optional>

#include "cuda/cuda_util.h"
#include "uma/core/fast.h"
#include "uma/core/primitives/fast.h"

namespace uma::test {
namespace {

Stream gpu_stream() { return default_stream(gpu()); }

// The primitives' fallbacks are never run here: a call would mean the GPU
// kernel was bypassed.
fast::Custom::Fallback no_fallback() {
  return [](const std::vector<array>&) -> std::vector<array> {
    throw std::logic_error("fast primitive fallback called in a CUDA kernel test");
  };
}

array gpu_rms_norm(const array& x, const std::optional<array>& w, float eps) {
  std::vector<array> ins{x};
  if (w) ins.push_back(*w);
  return array(x.shape(), x.dtype(), std::make_shared<fast::RMSNorm>(gpu_stream(), no_fallback(), eps, bool(w)),
               ins);
}

array gpu_layer_norm(const array& x, const std::optional<array>& w, const std::optional<array>& b, float eps) {
  std::vector<array> ins{x};
  if (w) ins.push_back(*w);
  if (b) ins.push_back(*b);
  return array(x.shape(), x.dtype(),
               std::make_shared<fast::LayerNorm>(gpu_stream(), no_fallback(), eps, bool(w), bool(b)), ins);
}

// offset: an int32 scalar or (B) array; freqs: float32 (dims / 2).
array gpu_rope(const array& x, int dims, bool traditional, std::optional<float> base, float scale,
               const array& offset, const std::optional<array>& freqs = std::nullopt) {
  std::vector<array> ins{x, astype(offset, int32, cpu())};
  if (freqs) ins.push_back(astype(*freqs, float32, cpu()));
  return array(x.shape(), x.dtype(),
               std::make_shared<fast::RoPE>(gpu_stream(), no_fallback(), dims, traditional, base.value_or(0.f), scale,
                                            bool(freqs)),
               ins);
}

array gpu_sdpa(const array& q, const array& k, const array& v, float scale, bool causal,
               const std::optional<array>& mask = std::nullopt) {
  std::vector<array> ins{q, k, v};
  if (mask) {
    array m = mask->dtype() == bool_ ? *mask : astype(*mask, float32, cpu());
    ins.push_back(broadcast_to(m, {q.shape(0), q.shape(1), q.shape(2), k.shape(2)}, cpu()));
  }
  Shape out{q.shape(0), q.shape(1), q.shape(2), v.shape(3)};
  return array(out, q.dtype(),
               std::make_shared<fast::ScaledDotProductAttention>(gpu_stream(), no_fallback(), scale, causal,
                                                                 bool(mask)),
               ins);
}

// Float32 math in another order on both sides: results within a few ulps of
// the output dtype (float64 inputs are computed in float32 on both).
struct Tol {
  double rtol, atol;
};
Tol fast_tol(Dtype t, double f32 = 2e-5) {
  switch (t) {
    case Dtype::float16: return {2e-3, 2e-3};
    case Dtype::bfloat16: return {1.6e-2, 1.6e-2};
    default: return {f32, f32};
  }
}

std::string name(Dtype t, const std::string& what) { return std::string(dtype_name(t)) + " " + what; }

void expect_fast(const array& gpu_out, const array& cpu_out, const Tol& tol, const std::string& what) {
  eval(gpu_out);
  EXPECT_TRUE(on_gpu(gpu_out)) << what;
  expect_same(gpu_out, cpu_out, tol.rtol, tol.atol, what);
}

TEST(CudaFast, RMSNorm) {
  NoFallback strict;
  uint32_t seed = 1;
  // Warp rows (vector and scalar loads), block rows, a single feature.
  const std::vector<Shape> shapes = {{3, 5, 64}, {4, 128}, {7, 4096}, {2, 3000}, {6, 999}, {5, 1}, {1, 2048}};
  for (Dtype t : float_dtypes()) {
    for (const Shape& sh : shapes) {
      array x = random_array(sh, t, seed++);
      array w = random_array({sh.back()}, t, seed++, 0.5, 1.5);
      std::string what = name(t, "rms_norm " + std::to_string(sh.back()));
      expect_fast(gpu_rms_norm(x, w, 1e-5f), fast::rms_norm(x, w, 1e-5f, cpu()), fast_tol(t), what);
      expect_fast(gpu_rms_norm(x, std::nullopt, 1e-6f), fast::rms_norm(x, std::nullopt, 1e-6f, cpu()), fast_tol(t),
                  what + " no weight");
    }
    // Against the ops-composed reference too.
    array x = random_array({4, 256}, t, seed++), w = random_array({256}, t, seed++);
    expect_fast(gpu_rms_norm(x, w, 1e-5f), fast::rms_norm_reference(x, w, 1e-5f, cpu()), fast_tol(t),
                name(t, "rms_norm vs reference"));
    // A strided input (copied) and a strided weight.
    array xt = transpose(random_array({64, 6}, t, seed++), {1, 0}, cpu());
    array wb = random_array({128}, t, seed++);
    array ws = slice(wb, {0}, {128}, {2}, cpu());
    expect_fast(gpu_rms_norm(xt, ws, 1e-5f), fast::rms_norm(xt, ws, 1e-5f, cpu()), fast_tol(t),
                name(t, "rms_norm strided"));
  }
}

TEST(CudaFast, LayerNorm) {
  NoFallback strict;
  uint32_t seed = 100;
  const std::vector<Shape> shapes = {{3, 5, 64}, {7, 4096}, {2, 3000}, {6, 999}, {3, 80}};
  for (Dtype t : float_dtypes()) {
    for (const Shape& sh : shapes) {
      array x = random_array(sh, t, seed++, -2, 3);
      array w = random_array({sh.back()}, t, seed++, 0.5, 1.5), b = random_array({sh.back()}, t, seed++);
      std::string what = name(t, "layer_norm " + std::to_string(sh.back()));
      expect_fast(gpu_layer_norm(x, w, b, 1e-5f), fast::layer_norm(x, w, b, 1e-5f, cpu()), fast_tol(t), what);
      expect_fast(gpu_layer_norm(x, w, std::nullopt, 1e-5f), fast::layer_norm(x, w, std::nullopt, 1e-5f, cpu()),
                  fast_tol(t), what + " weight only");
      expect_fast(gpu_layer_norm(x, std::nullopt, b, 1e-5f), fast::layer_norm(x, std::nullopt, b, 1e-5f, cpu()),
                  fast_tol(t), what + " bias only");
      expect_fast(gpu_layer_norm(x, std::nullopt, std::nullopt, 1e-5f),
                  fast::layer_norm(x, std::nullopt, std::nullopt, 1e-5f, cpu()), fast_tol(t), what + " plain");
    }
    array x = random_array({4, 192}, t, seed++), w = random_array({192}, t, seed++), b = random_array({192}, t, seed++);
    expect_fast(gpu_layer_norm(x, w, b, 1e-5f), fast::layer_norm_reference(x, w, b, 1e-5f, cpu()), fast_tol(t),
                name(t, "layer_norm vs reference"));
  }
}

TEST(CudaFast, RoPE) {
  NoFallback strict;
  uint32_t seed = 200;
  for (Dtype t : float_dtypes()) {
    array x = random_array({2, 4, 7, 64}, t, seed++);
    for (bool trad : {false, true}) {
      std::string lay = trad ? " traditional" : " halves";
      for (int dims : {64, 32}) {
        for (int off : {0, 5, 1000}) {
          std::string what = name(t, "rope dims " + std::to_string(dims) + " offset " + std::to_string(off) + lay);
          expect_fast(gpu_rope(x, dims, trad, 10000.f, 1.f, array(off)),
                      fast::rope(x, dims, trad, 10000.f, 1.f, off, std::nullopt, cpu()), fast_tol(t), what);
        }
      }
      // Per-sequence offsets, a position scale, another base.
      array offs = array(std::vector<int32_t>{3, 1000}, Shape{2});
      expect_fast(gpu_rope(x, 64, trad, 500000.f, 0.5f, offs),
                  fast::rope(x, 64, trad, 500000.f, 0.5f, offs, std::nullopt, cpu()), fast_tol(t),
                  name(t, "rope vector offset" + lay));
      // Explicit frequencies.
      array freqs = random_array({16}, float32, seed++, 1, 1000);
      expect_fast(gpu_rope(x, 32, trad, std::nullopt, 1.f, array(7), freqs),
                  fast::rope(x, 32, trad, std::nullopt, 1.f, 7, freqs, cpu()), fast_tol(t), name(t, "rope freqs" + lay));
      // A (B, T, H, D) projection seen as (B, H, T, D): strided rows.
      array xt = transpose(random_array({2, 9, 3, 64}, t, seed++), {0, 2, 1, 3}, cpu());
      expect_fast(gpu_rope(xt, 64, trad, 10000.f, 1.f, array(11)),
                  fast::rope(xt, 64, trad, 10000.f, 1.f, 11, std::nullopt, cpu()), fast_tol(t),
                  name(t, "rope strided" + lay));
      // 2-D input (T, D), against the ops-composed reference too.
      array x2 = random_array({13, 128}, t, seed++);
      expect_fast(gpu_rope(x2, 128, trad, 10000.f, 1.f, array(100)),
                  fast::rope(x2, 128, trad, 10000.f, 1.f, 100, std::nullopt, cpu()), fast_tol(t),
                  name(t, "rope 2-d" + lay));
      expect_fast(gpu_rope(x2, 128, trad, 10000.f, 1.f, array(100)),
                  fast::rope_reference(x2, 128, trad, 10000.f, 1.f, array(100), std::nullopt, cpu()),
                  fast_tol(t, 1e-4), name(t, "rope vs reference" + lay));
    }
  }
}

struct Attn {
  int B, Hq, Hk, Tq, Tk, D, Dv;
};

std::string attn_name(Dtype t, const Attn& s, const std::string& what) {
  return name(t, what + " B" + std::to_string(s.B) + " Hq" + std::to_string(s.Hq) + " Hk" + std::to_string(s.Hk) +
                     " Tq" + std::to_string(s.Tq) + " Tk" + std::to_string(s.Tk) + " D" + std::to_string(s.D) +
                     " Dv" + std::to_string(s.Dv));
}

void check_attention(Dtype t, const Attn& s, bool causal, uint32_t seed, const std::optional<array>& mask = {},
                     const std::string& what = "") {
  array q = random_array({s.B, s.Hq, s.Tq, s.D}, t, seed, -2, 2);
  array k = random_array({s.B, s.Hk, s.Tk, s.D}, t, seed + 1, -2, 2);
  array v = random_array({s.B, s.Hk, s.Tk, s.Dv}, t, seed + 2, -2, 2);
  const float scale = 1.0f / std::sqrt(float(s.D));
  const std::string mode = causal ? "causal" : "";
  array ref = fast::scaled_dot_product_attention(q, k, v, scale, mode, mask, cpu());
  expect_fast(gpu_sdpa(q, k, v, scale, causal, mask), ref, fast_tol(t, 1e-4),
              attn_name(t, s, what + (causal ? " causal" : "")));
}

TEST(CudaFast, AttentionDecode) {
  NoFallback strict;
  uint32_t seed = 300;
  const std::vector<Attn> shapes = {
      {1, 32, 8, 1, 4096, 128, 128},  // GQA 4, long cache (split keys)
      {1, 32, 32, 1, 1000, 64, 64},   // MHA
      {2, 16, 2, 1, 777, 96, 96},     // GQA 8, odd cache length
      {1, 8, 8, 1, 300, 80, 80},      // D = 80
      {1, 8, 2, 1, 513, 256, 256},    // D = 256
      {1, 4, 2, 3, 100, 64, 64},      // 3 draft tokens (rows = 6)
      {1, 2, 1, 1, 1, 64, 64},        // one key
      {1, 4, 1, 1, 64, 64, 32},       // Dv != D
  };
  for (Dtype t : float_dtypes()) {
    for (const Attn& s : shapes) {
      check_attention(t, s, false, seed, {}, "decode");
      check_attention(t, s, true, seed, {}, "decode");
      seed += 3;
    }
  }
}

TEST(CudaFast, AttentionPrefill) {
  NoFallback strict;
  uint32_t seed = 400;
  const std::vector<Attn> shapes = {
      {2, 8, 2, 200, 200, 64, 64},   // prefill, GQA 4
      {1, 4, 4, 100, 300, 128, 128},  // a chunk after a cached prefix
      {1, 4, 1, 37, 37, 80, 80},
      {1, 2, 2, 70, 70, 96, 96},
      {1, 4, 2, 65, 90, 256, 256},
      {1, 2, 1, 20, 10, 64, 64},  // more queries than keys: the first see none (zeros)
      {1, 16, 1, 9, 33, 64, 64},  // rows = 144 of one kv head
  };
  for (Dtype t : float_dtypes()) {
    for (const Attn& s : shapes) {
      check_attention(t, s, true, seed, {}, "prefill");
      seed += 3;
    }
    check_attention(t, shapes[0], false, seed, {}, "prefill");
    seed += 3;
  }
}

TEST(CudaFast, AttentionMasks) {
  NoFallback strict;
  uint32_t seed = 500;
  for (Dtype t : float_dtypes()) {
    for (const Attn& s : {Attn{2, 4, 2, 1, 200, 64, 64}, Attn{2, 4, 2, 50, 70, 64, 64}}) {
      // Boolean (true = keep), broadcast over heads; one row fully masked.
      array keep = greater(random_array({s.B, 1, s.Tq, s.Tk}, float32, seed++), array(-2.f), cpu());
      Shape start{0, 0, 0, 0}, stop{1, 1, 1, s.Tk};
      keep = slice_update(keep, zeros({1, 1, 1, s.Tk}, bool_, cpu()), start, stop, cpu());
      check_attention(t, s, false, seed, keep, "bool mask");
      seed += 3;
      // Additive float mask of every (b, h, i, j), -inf entries included.
      array add = random_array({s.B, s.Hq, s.Tq, s.Tk}, float32, seed++, -3, 1);
      add = where(greater(add, array(-2.5f), cpu()), add, array(-INFINITY), cpu());
      check_attention(t, s, false, seed, add, "additive mask");
      seed += 3;
      // Additive mask in the inputs' dtype, broadcast over batch.
      array addt = random_array({1, s.Hq, s.Tq, s.Tk}, t, seed++, -1, 1);
      check_attention(t, s, false, seed, addt, "additive mask broadcast");
      seed += 3;
    }
  }
}

TEST(CudaFast, AttentionStridedInputs) {
  NoFallback strict;
  uint32_t seed = 600;
  for (Dtype t : float_dtypes()) {
    // q from a (B, T, H, D) projection; k, v the first Tk positions of a
    // larger cache (B, Hk, Tmax, D).
    const int B = 2, Hq = 8, Hk = 2, Tq = 5, Tk = 90, Tmax = 128, D = 64;
    array q = transpose(random_array({B, Tq, Hq, D}, t, seed++, -2, 2), {0, 2, 1, 3}, cpu());
    array kc = random_array({B, Hk, Tmax, D}, t, seed++, -2, 2), vc = random_array({B, Hk, Tmax, D}, t, seed++, -2, 2);
    array k = slice(kc, {0, 0, 0, 0}, {B, Hk, Tk, D}, cpu()), v = slice(vc, {0, 0, 0, 0}, {B, Hk, Tk, D}, cpu());
    const float scale = 0.125f;
    for (bool causal : {false, true}) {
      array ref = fast::scaled_dot_product_attention(q, k, v, scale, causal ? "causal" : "", std::nullopt, cpu());
      expect_fast(gpu_sdpa(q, k, v, scale, causal), ref, fast_tol(t, 1e-4), name(t, "strided attention"));
    }
    // Against the ops-composed reference.
    array ref = fast::scaled_dot_product_attention_reference(q, k, v, scale, "causal", std::nullopt, cpu());
    expect_fast(gpu_sdpa(q, k, v, scale, true), ref, fast_tol(t, 1e-4), name(t, "attention vs reference"));
  }
}

}  // namespace
}  // namespace uma::test
