// CUDA kernel of fast::ScaledDotProductAttention: tiled attention with an
// online softmax in float32 (CUDA cores; tensor cores are a later step).
//
// q (B, Hq, Tq, D), k (B, Hk, Tk, D), v (B, Hk, Tk, Dv), out (B, Hq, Tq, Dv).
// A block takes one (batch, kv head), a tile of BR "rows" and one split of
// the keys. Rows are (query, head in the kv group) pairs, query-major
// (row = i * rep + r), so a tile's queries are consecutive (tight causal
// bounds) and each K/V tile read serves every query head of the group.
//   decode  (rep * Tq <= 8): 8 rows x 64 keys (32 when D > 128), a warp per row
//   prefill (otherwise):     64 rows x 64 keys (32 when D > 128), 4x4 score micro-tiles
// When (batch, kv head, row tile) blocks alone would not fill the GPU, the
// keys are split (flash-decoding): each split writes its unnormalized output
// and (max, sum) per row, and sdpa_combine merges them.
//
// Semantics as the CPU kernel (backend/cpu/fast.cpp): scores (q . k) * scale;
// causal: query i sees keys j <= i + Tk - Tq; a bool mask drops keys where
// false, a float32 mask is added; a query that sees no key gets zeros.
// float64 inputs are computed in float32 as on the CPU.
#include <optional>

#include "uma/backend/cuda/fast_utils.cuh"
#include "uma/core/primitives/fast.h"

namespace uma::fast {

namespace {

struct SdpaArgs {
  const void *q, *k, *v;
  const void* mask;  // element (b, h, i, j) at b*ms[0] + h*ms[1] + i*ms[2] + j*ms[3]
  void* out;
  float* o_part;   // (splits, B*Hq*Tq, Dv) when splits > 1
  float2* ml_part;  // (splits, B*Hq*Tq): running max and sum
  int B, Hq, Hk, Tq, Tk, D, Dv, rep, rows;  // rows = rep * Tq per (batch, kv head)
  int64_t qs[3], ks[3], vs[3], ms[4];        // strides of (batch, head, position); last axis unit
  int mask_kind;                             // 0 none, 1 bool, 2 float32 (additive)
  bool causal, vec;                          // vec: 16-byte loads of q, k, v rows
  float scale;
  int splits, tiles_per_split;
};

enum MaskKind { kNoMask = 0, kBoolMask = 1, kFloatMask = 2 };

// dst[r * ld + c] = float(row(r)[c]) for r < nrows, c < ncols; zeros where
// row(r) is null.
template <typename T, int NT, typename RowPtr>
__device__ inline void load_tile(float* dst, int ld, int nrows, int ncols, bool vec, RowPtr&& row) {
  constexpr int V = cuda::kVec<T>;
  if (vec) {
    const int chunks = ncols / V;
    for (int idx = threadIdx.x; idx < nrows * chunks; idx += NT) {
      const int r = idx / chunks, c = (idx - r * chunks) * V;
      float f[V];
      const T* p = row(r);
      if (p) {
        cuda::load_floats<T, V>(p + c, f);
      } else {
#pragma unroll
        for (int u = 0; u < V; ++u) f[u] = 0.f;
      }
#pragma unroll
      for (int u = 0; u < V; ++u) dst[r * ld + c + u] = f[u];
    }
  } else {
    for (int idx = threadIdx.x; idx < nrows * ncols; idx += NT) {
      const int r = idx / ncols, c = idx - r * ncols;
      const T* p = row(r);
      dst[r * ld + c] = p ? cuda::convert<float>(p[c]) : 0.f;
    }
  }
}

template <int TY, int TX, int RA, int CC, int DVC>
struct Tiles {
  static constexpr int NT = TY * TX, BR = TY * RA, BC = TX * CC, LDV = TX * DVC;
  static size_t smem_floats(int D) {
    const size_t ld = size_t(D | 1);
    return BR * ld + BC * ld + size_t(BC) * LDV + size_t(BR) * (BC + 1);
  }
};

template <typename T, int TY, int TX, int RA, int CC, int DVC>
__global__ void __launch_bounds__(TY* TX) sdpa_kernel(SdpaArgs a) {
  using Tl = Tiles<TY, TX, RA, CC, DVC>;
  constexpr int NT = Tl::NT, BR = Tl::BR, BC = Tl::BC, LDV = Tl::LDV;
  extern __shared__ float smem[];
  const int ld = a.D | 1;  // odd: rows of Q/K tiles fall in different banks
  float* Qs = smem;          // BR x ld
  float* Ks = Qs + BR * ld;  // BC x ld
  float* Vs = Ks + BC * ld;  // BC x LDV (columns past Dv stay zero)
  float* Ps = Vs + BC * LDV;  // BR x (BC + 1)
  const int tid = threadIdx.x, tx = tid % TX, ty = tid / TX;
  const int row0 = blockIdx.x * BR;
  const int b = int(blockIdx.y) / a.Hk, hk = int(blockIdx.y) % a.Hk;
  const int split = blockIdx.z;

  const T* qb = static_cast<const T*>(a.q) + b * a.qs[0] + int64_t(hk) * a.rep * a.qs[1];
  const T* kb = static_cast<const T*>(a.k) + b * a.ks[0] + hk * a.ks[1];
  const T* vb = static_cast<const T*>(a.v) + b * a.vs[0] + hk * a.vs[1];

  load_tile<T, NT>(Qs, ld, BR, a.D, a.vec, [&](int r) -> const T* {
    const int rho = row0 + r;
    if (rho >= a.rows) return nullptr;
    return qb + (rho % a.rep) * a.qs[1] + int64_t(rho / a.rep) * a.qs[2];
  });
  for (int idx = tid; idx < BC * LDV; idx += NT) {
    if (idx % LDV >= a.Dv) Vs[idx] = 0.f;
  }

  // Keys this block reads: its split, cut at the last key its last query sees.
  int jend = a.Tk;
  if (a.causal) {
    const int last_i = (min(row0 + BR, a.rows) - 1) / a.rep;
    jend = max(0, min(a.Tk, last_i + a.Tk - a.Tq + 1));
  }
  const int jbeg = split * a.tiles_per_split * BC;
  const int64_t split_end = int64_t(split + 1) * a.tiles_per_split * BC;
  const int jstop = split_end < jend ? int(split_end) : jend;

  // This thread's rows: ty + TY * r.
  int row_i[RA], row_h[RA];
  bool row_ok[RA];
#pragma unroll
  for (int r = 0; r < RA; ++r) {
    const int rho = row0 + ty + TY * r;
    row_ok[r] = rho < a.rows;
    row_i[r] = row_ok[r] ? rho / a.rep : 0;
    row_h[r] = hk * a.rep + (row_ok[r] ? rho % a.rep : 0);
  }
  const bool any_row = row_ok[0];  // rows grow with r

  float m[RA], l[RA], acc[RA][DVC];
#pragma unroll
  for (int r = 0; r < RA; ++r) {
    m[r] = -INFINITY;
    l[r] = 0.f;
#pragma unroll
    for (int e = 0; e < DVC; ++e) acc[r][e] = 0.f;
  }

  for (int j0 = jbeg; j0 < jstop; j0 += BC) {
    __syncthreads();  // the previous tile is consumed (and Q, the V padding are written)
    load_tile<T, NT>(Ks, ld, BC, a.D, a.vec,
                     [&](int c) -> const T* { return j0 + c < a.Tk ? kb + int64_t(j0 + c) * a.ks[2] : nullptr; });
    load_tile<T, NT>(Vs, LDV, BC, a.Dv, a.vec,
                     [&](int c) -> const T* { return j0 + c < a.Tk ? vb + int64_t(j0 + c) * a.vs[2] : nullptr; });
    __syncthreads();

    float sc[RA][CC];
#pragma unroll
    for (int r = 0; r < RA; ++r) {
#pragma unroll
      for (int c = 0; c < CC; ++c) sc[r][c] = 0.f;
    }
    if (any_row) {
#pragma unroll 4
      for (int d = 0; d < a.D; ++d) {
        float qv[RA], kv[CC];
#pragma unroll
        for (int r = 0; r < RA; ++r) qv[r] = Qs[(ty + TY * r) * ld + d];
#pragma unroll
        for (int c = 0; c < CC; ++c) kv[c] = Ks[(tx + TX * c) * ld + d];
#pragma unroll
        for (int r = 0; r < RA; ++r) {
#pragma unroll
          for (int c = 0; c < CC; ++c) sc[r][c] = fmaf(qv[r], kv[c], sc[r][c]);
        }
      }
    }

    // Scale and mask, then the online softmax (every lane takes part: the
    // row reductions shuffle across the TX lanes of a row).
#pragma unroll
    for (int r = 0; r < RA; ++r) {
      float mx = -INFINITY;
#pragma unroll
      for (int c = 0; c < CC; ++c) {
        const int j = j0 + tx + TX * c;
        float x = -INFINITY;
        if (row_ok[r] && j < a.Tk && (!a.causal || j <= row_i[r] + a.Tk - a.Tq)) {
          x = sc[r][c] * a.scale;
          if (a.mask_kind != kNoMask) {
            const int64_t mo = b * a.ms[0] + row_h[r] * a.ms[1] + row_i[r] * a.ms[2] + j * a.ms[3];
            if (a.mask_kind == kBoolMask) {
              if (!static_cast<const bool*>(a.mask)[mo]) x = -INFINITY;
            } else {
              x += static_cast<const float*>(a.mask)[mo];
            }
          }
        }
        sc[r][c] = x;
        mx = fmaxf(mx, x);
      }
      mx = cuda::group_max<TX>(mx);
      const float m_new = fmaxf(m[r], mx);
      const float m_use = m_new == -INFINITY ? 0.f : m_new;
      const float alpha = expf(m[r] - m_use);  // 0 while nothing was seen
      float sum = 0.f;
#pragma unroll
      for (int c = 0; c < CC; ++c) {
        const float p = expf(sc[r][c] - m_use);
        Ps[(ty + TY * r) * (BC + 1) + tx + TX * c] = p;
        sum += p;
      }
      sum = cuda::group_sum<TX>(sum);
      l[r] = l[r] * alpha + sum;
      m[r] = m_new;
#pragma unroll
      for (int e = 0; e < DVC; ++e) acc[r][e] *= alpha;
    }
    __syncthreads();

    if (any_row) {
      const int nj = min(BC, a.Tk - j0);
      for (int j = 0; j < nj; ++j) {
        float vv[DVC];
#pragma unroll
        for (int e = 0; e < DVC; ++e) vv[e] = Vs[j * LDV + tx + TX * e];
#pragma unroll
        for (int r = 0; r < RA; ++r) {
          const float p = Ps[(ty + TY * r) * (BC + 1) + j];
#pragma unroll
          for (int e = 0; e < DVC; ++e) acc[r][e] = fmaf(p, vv[e], acc[r][e]);
        }
      }
    }
  }

  const int64_t total = int64_t(a.B) * a.Hq * a.Tq;
#pragma unroll
  for (int r = 0; r < RA; ++r) {
    if (!row_ok[r]) continue;
    const int64_t g = (int64_t(b) * a.Hq + row_h[r]) * a.Tq + row_i[r];
    if (a.splits == 1) {
      const float inv = l[r] > 0.f ? 1.0f / l[r] : 0.f;
      T* o = static_cast<T*>(a.out) + g * a.Dv;
#pragma unroll
      for (int e = 0; e < DVC; ++e) {
        const int d = tx + TX * e;
        if (d < a.Dv) o[d] = cuda::convert<T>(acc[r][e] * inv);
      }
    } else {
      const int64_t pg = int64_t(split) * total + g;
      float* o = a.o_part + pg * a.Dv;
#pragma unroll
      for (int e = 0; e < DVC; ++e) {
        const int d = tx + TX * e;
        if (d < a.Dv) o[d] = acc[r][e];
      }
      if (tx == 0) a.ml_part[pg] = make_float2(m[r], l[r]);
    }
  }
}

// out row g = sum_s e^(m_s - M) o_s / sum_s e^(m_s - M) l_s (zeros where no
// split saw a key).
template <typename T>
__global__ void sdpa_combine(const float* o_part, const float2* ml, T* out, int64_t total, int splits, int Dv) {
  for (int64_t g = blockIdx.x; g < total; g += gridDim.x) {
    float M = -INFINITY;
    for (int s = 0; s < splits; ++s) M = fmaxf(M, ml[s * total + g].x);
    const float m_use = M == -INFINITY ? 0.f : M;
    float den = 0.f;
    for (int s = 0; s < splits; ++s) {
      const float2 v = ml[s * total + g];
      den += expf(v.x - m_use) * v.y;
    }
    const float inv = den > 0.f ? 1.0f / den : 0.f;
    for (int d = threadIdx.x; d < Dv; d += blockDim.x) {
      float num = 0.f;
      for (int s = 0; s < splits; ++s) {
        num += expf(ml[s * total + g].x - m_use) * o_part[(s * total + g) * Dv + d];
      }
      out[g * Dv + d] = cuda::convert<T>(num * inv);
    }
  }
}

// The tile shape of a problem.
struct Config {
  bool decode;    // rep * Tq <= 8
  bool wide;      // D > 128: half as many keys per tile
  int dv_class;   // Dv <= 64, <= 128, <= 256: 0, 1, 2
};

Config choose(int rows, int D, int Dv) {
  return {rows <= 8, D > 128, Dv <= 64 ? 0 : Dv <= 128 ? 1 : 2};
}

// Calls f(Tiles-parameter tags...) for the configuration.
template <typename F>
void with_config(const Config& c, F&& f) {
  using std::integral_constant;
  auto dv = [&](auto dec, auto cc) {
    // decode: TX = 32 lanes per row; prefill: TX = 16.
    constexpr int TX = decltype(dec)::value ? 32 : 16;
    switch (c.dv_class) {
      case 0: return f(dec, cc, integral_constant<int, 64 / TX>{});
      case 1: return f(dec, cc, integral_constant<int, 128 / TX>{});
      default: return f(dec, cc, integral_constant<int, 256 / TX>{});
    }
  };
  if (c.decode) {
    c.wide ? dv(std::true_type{}, integral_constant<int, 1>{}) : dv(std::true_type{}, integral_constant<int, 2>{});
  } else {
    c.wide ? dv(std::false_type{}, integral_constant<int, 2>{}) : dv(std::false_type{}, integral_constant<int, 4>{});
  }
}

template <bool kDecode, int CC, int DVC>
using TilesOf = Tiles<kDecode ? 8 : 16, kDecode ? 32 : 16, kDecode ? 1 : 4, CC, DVC>;

size_t smem_bytes(const Config& c, int D) {
  size_t bytes = 0;
  with_config(c, [&](auto dec, auto cc, auto dvc) {
    bytes = TilesOf<decltype(dec)::value, decltype(cc)::value, decltype(dvc)::value>::smem_floats(D) * sizeof(float);
  });
  return bytes;
}

int smem_optin(int device) {
  int v = 0;
  UMA_CUDA_CHECK(cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  return v;
}

template <typename T>
void run_sdpa(SdpaArgs a, const Config& cfg, const Stream& s) {
  const int device = s.device.index;
  cudaStream_t cs = cuda::stream(s);
  with_config(cfg, [&](auto dec, auto cc, auto dvc) {
    constexpr bool kDecode = decltype(dec)::value;
    constexpr int TY = kDecode ? 8 : 16, TX = kDecode ? 32 : 16, RA = kDecode ? 1 : 4;
    using Tl = Tiles<TY, TX, RA, decltype(cc)::value, decltype(dvc)::value>;
    auto kernel = sdpa_kernel<T, TY, TX, RA, decltype(cc)::value, decltype(dvc)::value>;
    const size_t smem = Tl::smem_floats(a.D) * sizeof(float);
    // The opt-in maximum, the same for every call (no race between threads
    // setting different limits on the same kernel).
    UMA_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem_optin(device)));
    int occupancy = 0;
    UMA_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&occupancy, kernel, Tl::NT, smem));

    const int64_t row_tiles = (a.rows + Tl::BR - 1) / Tl::BR;
    const int64_t base = int64_t(a.B) * a.Hk * row_tiles;
    const int64_t key_tiles = (int64_t(a.Tk) + Tl::BC - 1) / Tl::BC;
    const int64_t target = int64_t(cuda::sm_count(device)) * std::max(occupancy, 1);
    int64_t splits = 1;
    if (base < target && key_tiles > 1) splits = std::min<int64_t>({key_tiles, (target + base - 1) / base, 1024});
    const int64_t tps = key_tiles ? (key_tiles + splits - 1) / splits : 1;
    splits = key_tiles ? (key_tiles + tps - 1) / tps : 1;
    a.splits = int(splits);
    a.tiles_per_split = int(tps);

    const int64_t total = int64_t(a.B) * a.Hq * a.Tq;
    // Partial outputs, then (max, sum) pairs at an even (8-byte aligned) offset.
    const int64_t o_floats = (splits * total * a.Dv + 1) / 2 * 2;
    array scratch = splits > 1 ? cuda::scratch_floats(o_floats + 2 * splits * total, s, &a.o_part) : array(0.f);
    if (splits > 1) a.ml_part = reinterpret_cast<float2*>(a.o_part + o_floats);

    dim3 grid(unsigned(row_tiles), unsigned(int64_t(a.B) * a.Hk), unsigned(splits));
    kernel<<<grid, Tl::NT, smem, cs>>>(a);
    UMA_CUDA_LAUNCHED("scaled_dot_product_attention");
    if (splits > 1) {
      const int blocks = int(std::min<int64_t>(total, int64_t(1) << 30));
      sdpa_combine<T><<<blocks, 128, 0, cs>>>(a.o_part, a.ml_part, static_cast<T*>(a.out), total, a.splits, a.Dv);
      UMA_CUDA_LAUNCHED("scaled_dot_product_attention_combine");
    }
  });
}

}  // namespace

void ScaledDotProductAttention::eval_gpu(const std::vector<array>& inputs, array& out) {
  const Stream s = stream();
  const array &q0 = inputs[0], &k0 = inputs[1], &v0 = inputs[2];
  const int B = q0.shape(0), Hq = q0.shape(1), Tq = q0.shape(2), D = q0.shape(3);
  const int Hk = k0.shape(1), Tk = k0.shape(2), Dv = v0.shape(3);
  const int rep = Hk ? Hq / Hk : 1;
  const Config cfg = choose(rep * Tq, D, Dv);
  // Shapes beyond the kernel's tiles run on the CPU.
  const bool fits = Dv <= 256 && int64_t(B) * Hk <= 65535 && int64_t(rep) * Tq <= INT32_MAX &&
                    smem_bytes(cfg, D) <= size_t(smem_optin(s.device.index));
  if (!fits) {
    std::vector<array> outs{out};
    cuda::cpu_fallback(*this, inputs, outs);
    return;
  }
  array q = cuda::unit_last_stride(q0, s), k = cuda::unit_last_stride(k0, s), v = cuda::unit_last_stride(v0, s);
  std::optional<array> mask;
  if (has_mask_) {
    mask = inputs[3];
    if (mask->dtype() != bool_ && mask->dtype() != float32) {
      array m(mask->shape(), float32, nullptr, {});
      cuda::copy_to_new(*mask, m, s);
      mask = m;
    }
  }
  SdpaArgs a{};
  a.q = cuda::in_ptr(q, s);
  a.k = cuda::in_ptr(k, s);
  a.v = cuda::in_ptr(v, s);
  a.mask = mask ? cuda::in_ptr(*mask, s) : nullptr;
  a.out = cuda::out_ptr(out, s);
  if (out.size() == 0) return;
  a.B = B, a.Hq = Hq, a.Hk = Hk, a.Tq = Tq, a.Tk = Tk, a.D = D, a.Dv = Dv, a.rep = rep, a.rows = rep * Tq;
  for (int d = 0; d < 3; ++d) {
    a.qs[d] = q.strides(d);
    a.ks[d] = k.strides(d);
    a.vs[d] = v.strides(d);
  }
  if (mask) {
    for (int d = 0; d < 4; ++d) a.ms[d] = mask->strides(d);
  }
  a.mask_kind = !mask ? kNoMask : mask->dtype() == bool_ ? kBoolMask : kFloatMask;
  a.causal = causal_;
  a.scale = scale_;
  cuda::dispatch(out.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T> || cuda::is_half_v<T>) {
      constexpr int V = cuda::kVec<T>;
      bool vec = D % V == 0 && Dv % V == 0 && cuda::aligned16(a.q) && cuda::aligned16(a.k) && cuda::aligned16(a.v);
      for (int d = 0; d < 3; ++d) vec &= a.qs[d] % V == 0 && a.ks[d] % V == 0 && a.vs[d] % V == 0;
      a.vec = vec;
      run_sdpa<T>(a, cfg, s);
    } else {
      throw std::invalid_argument(std::string("[scaled_dot_product_attention] no CUDA kernel for dtype ") +
                                  dtype_name(out.dtype()));
    }
  });
}

}  // namespace uma::fast
