// CPU kernels of the fused fast paths: rms_norm, layer_norm, rope and
// scaled_dot_product_attention. All accumulate in float32.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "uma/backend/cpu/row_major.h"
#include "uma/backend/cpu/simd_convert.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/core/primitives/fast.h"

namespace uma::fast {

namespace {

// `a` with a unit stride on its last axis (other strides kept).
array unit_last_stride(const array& a) {
  if (a.ndim() == 0 || a.strides().back() == 1 || a.shape().back() == 1) return a;
  return cpu::row_major(a);
}

template <typename T>
void rms_norm_rows(const T* x, const T* w, T* out, int64_t rows, int64_t D, float eps) {
  std::vector<float> wf;
  if (w) {
    wf.resize(D);
    cpu::load_f32(w, wf.data(), D);
  }
  cpu::parallel_for(size_t(rows), std::max<size_t>(1, size_t(8192 / std::max<int64_t>(D, 1))), [&](size_t b, size_t e) {
    std::vector<float> row(D);
    for (size_t r = b; r < e; ++r) {
      cpu::load_f32(x + r * D, row.data(), D);
      float ss = cpu::dot_f32(row.data(), row.data(), D);
      float inv = 1.0f / std::sqrt(ss / float(D) + eps);
      if (w) {
        for (int64_t i = 0; i < D; ++i) row[i] = row[i] * inv * wf[i];
      } else {
        for (int64_t i = 0; i < D; ++i) row[i] *= inv;
      }
      cpu::store_f32(row.data(), out + r * D, D);
    }
  });
}

}  // namespace

void RMSNorm::eval_cpu(const std::vector<array>& inputs, array& out) {
  array x = cpu::row_major(inputs[0]);
  std::optional<array> w;
  if (has_weight_) w = cpu::row_major(inputs[1]);
  out.set_data(allocator::malloc(out.nbytes()));
  int64_t D = x.shape().back();
  if (D == 0 || x.size() == 0) return;
  int64_t rows = int64_t(x.size()) / D;
  cpu::dispatch_float(out.dtype(), "rms_norm", [&](auto tag) {
    using T = typename decltype(tag)::type;
    rms_norm_rows<T>(static_cast<const T*>(x.raw_ptr()), w ? static_cast<const T*>(w->raw_ptr()) : nullptr,
                     static_cast<T*>(out.raw_ptr()), rows, D, eps_);
  });
}

void LayerNorm::eval_cpu(const std::vector<array>& inputs, array& out) {
  array x = cpu::row_major(inputs[0]);
  std::optional<array> w, bias;
  size_t k = 1;
  if (has_weight_) w = cpu::row_major(inputs[k++]);
  if (has_bias_) bias = cpu::row_major(inputs[k++]);
  out.set_data(allocator::malloc(out.nbytes()));
  int64_t D = x.shape().back();
  if (D == 0 || x.size() == 0) return;
  int64_t rows = int64_t(x.size()) / D;
  cpu::dispatch_float(out.dtype(), "layer_norm", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* xp = static_cast<const T*>(x.raw_ptr());
    T* op = static_cast<T*>(out.raw_ptr());
    std::vector<float> wf(D, 1.f), bf(D, 0.f);
    if (w) cpu::load_f32(static_cast<const T*>(w->raw_ptr()), wf.data(), D);
    if (bias) cpu::load_f32(static_cast<const T*>(bias->raw_ptr()), bf.data(), D);
    cpu::parallel_for(size_t(rows), std::max<size_t>(1, size_t(8192 / D)), [&](size_t b, size_t e) {
      std::vector<float> row(D);
      for (size_t r = b; r < e; ++r) {
        cpu::load_f32(xp + r * D, row.data(), D);
        double mu = 0;
        for (int64_t i = 0; i < D; ++i) mu += row[i];
        float m = float(mu / double(D));
        double var = 0;
        for (int64_t i = 0; i < D; ++i) var += double(row[i] - m) * double(row[i] - m);
        float inv = 1.0f / std::sqrt(float(var / double(D)) + eps_);
        for (int64_t i = 0; i < D; ++i) row[i] = (row[i] - m) * inv * wf[i] + bf[i];
        cpu::store_f32(row.data(), op + r * D, D);
      }
    });
  });
}

void RoPE::eval_cpu(const std::vector<array>& inputs, array& out) {
  array x = unit_last_stride(inputs[0]);
  std::vector<int32_t> offsets = array(inputs[1]).to_vector<int32_t>();
  out.set_data(allocator::malloc(out.nbytes()));
  if (out.size() == 0) return;
  int nd = int(x.ndim());
  int64_t T = x.shape(-2), D = x.shape(-1);
  int half = dims_ / 2;
  // Inverse frequencies as transformers computes them: 1 / base^(2i/dims).
  std::vector<float> inv(half);
  if (has_freqs_) {
    auto f = array(inputs[2]).to_vector<float>();
    for (int i = 0; i < half; ++i) inv[i] = 1.0f / f[i];
  } else {
    for (int i = 0; i < half; ++i) inv[i] = 1.0f / std::pow(base_, float(2 * i) / float(dims_));
  }
  // cos/sin tables per distinct offset: (n_off, T, half)
  size_t n_off = offsets.size();
  std::vector<float> cos_t(n_off * T * half), sin_t(n_off * T * half);
  for (size_t o = 0; o < n_off; ++o) {
    for (int64_t t = 0; t < T; ++t) {
      float pos = float(offsets[o] + t) * scale_;
      for (int i = 0; i < half; ++i) {
        float th = pos * inv[i];
        cos_t[(o * T + t) * half + i] = std::cos(th);
        sin_t[(o * T + t) * half + i] = std::sin(th);
      }
    }
  }
  // Rows: every index of the leading dims (..., T).
  Shape lead(x.shape().begin(), x.shape().end() - 1);
  int64_t rows = int64_t(x.size()) / D;
  int64_t per_batch = rows / (nd >= 3 ? x.shape(0) : 1);
  cpu::dispatch_float(out.dtype(), "rope", [&](auto tag) {
    using T_ = typename decltype(tag)::type;
    const T_* xp = static_cast<const T_*>(x.raw_ptr());
    T_* op = static_cast<T_*>(out.raw_ptr());
    cpu::parallel_for(size_t(rows), 64, [&](size_t b, size_t e) {
      std::vector<float> in(D), res(D);
      for (size_t r = b; r < e; ++r) {
        // Element offset of row r in x (strided leading dims).
        int64_t off = 0, rem = int64_t(r);
        for (int d = nd - 2; d >= 0; --d) {
          off += (rem % lead[d]) * x.strides()[d];
          rem /= lead[d];
        }
        int64_t t = int64_t(r) % T;
        size_t o = n_off == 1 ? 0 : size_t(int64_t(r) / per_batch);
        const float* c = &cos_t[(o * T + t) * half];
        const float* s = &sin_t[(o * T + t) * half];
        cpu::load_f32(xp + off, in.data(), D);
        if (traditional_) {
          for (int i = 0; i < half; ++i) {
            float x1 = in[2 * i], x2 = in[2 * i + 1];
            res[2 * i] = x1 * c[i] - x2 * s[i];
            res[2 * i + 1] = x1 * s[i] + x2 * c[i];
          }
        } else {
          for (int i = 0; i < half; ++i) {
            float x1 = in[i], x2 = in[i + half];
            res[i] = x1 * c[i] - x2 * s[i];
            res[i + half] = x1 * s[i] + x2 * c[i];
          }
        }
        for (int64_t i = dims_; i < D; ++i) res[i] = in[i];
        cpu::store_f32(res.data(), op + int64_t(r) * D, D);
      }
    });
  });
}

namespace {

// One (batch, kv head, query) work item handles all query heads sharing the
// kv head, so each key/value row is converted and read once for all of them.
// Scores sc[0, jmax) of query i of head h in batch b: the mask applied
// (false: -inf; float: added), then exponentiated past their stable max.
// Returns 1 / their sum, or 0 where no key is left (the row becomes zeros).
inline float softmax_row(float* sc, int jmax, const array* mask, int b, int h, int i) {
  if (mask) {
    auto& ms = mask->strides();
    int64_t base = b * ms[0] + h * ms[1] + i * ms[2];
    if (mask->dtype() == bool_) {
      const bool* mp = static_cast<const bool*>(mask->raw_ptr()) + base;
      for (int j = 0; j < jmax; ++j) {
        if (!mp[j * ms[3]]) sc[j] = -INFINITY;
      }
    } else {
      const float* mp = static_cast<const float*>(mask->raw_ptr()) + base;
      for (int j = 0; j < jmax; ++j) sc[j] += mp[j * ms[3]];
    }
  }
  float mx = -INFINITY, denom = 0.f;
  for (int j = 0; j < jmax; ++j) mx = std::max(mx, sc[j]);
  float m = std::isinf(mx) && mx < 0 ? 0.f : mx;
  for (int j = 0; j < jmax; ++j) {
    sc[j] = std::exp(sc[j] - m);
    denom += sc[j];
  }
  return denom > 0.f ? 1.0f / denom : 0.f;
}

// Attention for many queries (prefill), on uma's pool: per batch and kv
// head, K transposed to float32 (D x Tk) and V in float32 (Tk x Dv) once;
// then blocks of queries in parallel, each with all its query heads as rows:
// scores by an outer-product kernel (4 rows x 16 keys of accumulators, no
// horizontal sums), the masked softmax of each row, and P V a row at a
// time. A causal block stops at the last key its last query sees. Same
// semantics as sdpa_rows: masked keys weigh nothing, a query that sees no
// key gets zeros.

// s[r * lds + j] = scale * q_r . k_j for RM rows of q (D floats each) and
// the keys [j0, j1) of kt (D x ldk).
template <int RM>
void score_rows(const float* q, int D, const float* kt, int64_t ldk, int j0, int j1, float scale, float* s,
                int64_t lds) {
  const __m256 sc = _mm256_set1_ps(scale);
  int j = j0;
  for (; j + 16 <= j1; j += 16) {
    __m256 acc[RM][2];
    for (int r = 0; r < RM; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int d = 0; d < D; ++d) {
      __m256 k0 = _mm256_loadu_ps(kt + d * ldk + j), k1 = _mm256_loadu_ps(kt + d * ldk + j + 8);
      for (int r = 0; r < RM; ++r) {
        __m256 qv = _mm256_broadcast_ss(q + r * D + d);
        acc[r][0] = _mm256_fmadd_ps(qv, k0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(qv, k1, acc[r][1]);
      }
    }
    for (int r = 0; r < RM; ++r) {
      _mm256_storeu_ps(s + r * lds + j, _mm256_mul_ps(acc[r][0], sc));
      _mm256_storeu_ps(s + r * lds + j + 8, _mm256_mul_ps(acc[r][1], sc));
    }
  }
  for (; j < j1; ++j) {
    for (int r = 0; r < RM; ++r) {
      float a = 0.f;
      for (int d = 0; d < D; ++d) a += q[r * D + d] * kt[d * ldk + j];
      s[r * lds + j] = a * scale;
    }
  }
}

// o (Dv floats) = sum_{j < n} p_j v_j, v rows of Dv floats.
inline void weighted_rows(const float* p, int n, const float* v, int Dv, float* o) {
  int d = 0;
  for (; d + 32 <= Dv; d += 32) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int j = 0; j < n; ++j) {
      const float* vj = v + int64_t(j) * Dv + d;
      __m256 pj = _mm256_broadcast_ss(p + j);
      a0 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vj), a0);
      a1 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vj + 8), a1);
      a2 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vj + 16), a2);
      a3 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vj + 24), a3);
    }
    _mm256_storeu_ps(o + d, a0);
    _mm256_storeu_ps(o + d + 8, a1);
    _mm256_storeu_ps(o + d + 16, a2);
    _mm256_storeu_ps(o + d + 24, a3);
  }
  for (; d + 8 <= Dv; d += 8) {
    __m256 a = _mm256_setzero_ps();
    for (int j = 0; j < n; ++j) a = _mm256_fmadd_ps(_mm256_broadcast_ss(p + j), _mm256_loadu_ps(v + int64_t(j) * Dv + d), a);
    _mm256_storeu_ps(o + d, a);
  }
  for (; d < Dv; ++d) {
    float a = 0.f;
    for (int j = 0; j < n; ++j) a += p[j] * v[int64_t(j) * Dv + d];
    o[d] = a;
  }
}

template <typename T>
void sdpa_blocked(const array& q, const array& k, const array& v, const array* mask, array& out, float scale,
                  bool causal) {
  const int B = q.shape(0), Hq = q.shape(1), Tq = q.shape(2), D = q.shape(3);
  const int Hk = k.shape(1), Tk = k.shape(2), Dv = v.shape(3), rep = Hq / Hk;
  const T* qp = static_cast<const T*>(q.raw_ptr());
  const T* kp = static_cast<const T*>(k.raw_ptr());
  const T* vp = static_cast<const T*>(v.raw_ptr());
  T* op = static_cast<T*>(out.raw_ptr());
  auto qs = q.strides(), ks = k.strides(), vs = v.strides();
  // Queries per block: 16, fewer where the block's scores (rep x Qb x Tk
  // floats) would pass 4 MiB.
  const int Qb = std::clamp(int((size_t(1) << 20) / (size_t(rep) * size_t(std::max(Tk, 1)))), 1, std::min(16, Tq));
  const int blocks = (Tq + Qb - 1) / Qb;
  std::vector<float> kt(size_t(D) * Tk), vf(size_t(Tk) * Dv);
  for (int b = 0; b < B; ++b) {
    for (int hk = 0; hk < Hk; ++hk) {
      // K transposed: blocks of 64 keys a task, each converted, then written by column.
      cpu::parallel_for(size_t(Tk + 63) / 64, 1, [&](size_t c0, size_t c1) {
        std::vector<float> row(static_cast<size_t>(D));
        for (size_t j = c0 * 64; j < std::min(size_t(Tk), c1 * 64); ++j) {
          cpu::load_f32(kp + b * ks[0] + hk * ks[1] + int64_t(j) * ks[2], row.data(), D);
          for (int d = 0; d < D; ++d) kt[size_t(d) * Tk + j] = row[size_t(d)];
          cpu::load_f32(vp + b * vs[0] + hk * vs[1] + int64_t(j) * vs[2], &vf[j * Dv], Dv);
        }
      });
      cpu::parallel_for(size_t(blocks), 1, [&](size_t blk0, size_t blk1) {
        std::vector<float> qf(size_t(rep) * Qb * D), s(size_t(rep) * Qb * Tk), o(static_cast<size_t>(Dv));
        for (size_t blk = blk0; blk < blk1; ++blk) {
          const int i0 = int(blk) * Qb, nq = std::min(Qb, Tq - i0), rows = rep * nq;
          // Keys the block's last query sees; row r * nq + (i - i0) is query i of head hk * rep + r.
          const int jn = causal ? std::clamp(i0 + nq + Tk - Tq, 0, Tk) : Tk;
          for (int row = 0; row < rows; ++row) {
            int h = hk * rep + row / nq, i = i0 + row % nq;
            cpu::load_f32(qp + b * qs[0] + h * qs[1] + i * qs[2], &qf[size_t(row) * D], D);
          }
          int row = 0;
          for (; row + 4 <= rows; row += 4) {
            score_rows<4>(&qf[size_t(row) * D], D, kt.data(), Tk, 0, jn, scale, &s[size_t(row) * jn], jn);
          }
          for (; row < rows; ++row) {
            score_rows<1>(&qf[size_t(row) * D], D, kt.data(), Tk, 0, jn, scale, &s[size_t(row) * jn], jn);
          }
          for (row = 0; row < rows; ++row) {
            int h = hk * rep + row / nq, i = i0 + row % nq;
            int jmax = causal ? std::clamp(i + Tk - Tq + 1, 0, Tk) : Tk;
            float* sc = &s[size_t(row) * jn];
            float inv = softmax_row(sc, jmax, mask, b, h, i);
            weighted_rows(sc, jmax, vf.data(), Dv, o.data());
            for (int d = 0; d < Dv; ++d) o[size_t(d)] *= inv;
            cpu::store_f32(o.data(), op + ((int64_t(b) * Hq + h) * Tq + i) * Dv, Dv);
          }
        }
      });
    }
  }
}

// Attention a query at a time (decode, short chunks), all of its query
// heads together; parallel over (batch, kv head, query).
template <typename T>
void sdpa_rows(const array& q, const array& k, const array& v, const array* mask, array& out, float scale, bool causal) {
  int B = q.shape(0), Hq = q.shape(1), Tq = q.shape(2), D = q.shape(3);
  int Hk = k.shape(1), Tk = k.shape(2), Dv = v.shape(3), rep = Hq / Hk;
  const T* qp = static_cast<const T*>(q.raw_ptr());
  const T* kp = static_cast<const T*>(k.raw_ptr());
  const T* vp = static_cast<const T*>(v.raw_ptr());
  T* op = static_cast<T*>(out.raw_ptr());
  auto qs = q.strides(), ks = k.strides(), vs = v.strides();
  size_t items = size_t(B) * Hk * Tq;
  size_t grain = std::max<size_t>(1, size_t(1 << 16) / (size_t(Tk) * (D + Dv) * rep + 1));
  cpu::parallel_for(items, grain, [&](size_t begin, size_t end) {
    std::vector<float> qf(size_t(rep) * D), kf(D), vf(Dv), scores(size_t(rep) * Tk), acc(size_t(rep) * Dv);
    for (size_t it = begin; it < end; ++it) {
      int i = int(it % Tq);
      int hk = int((it / Tq) % Hk);
      int b = int(it / (size_t(Tq) * Hk));
      int jmax = causal ? std::min(Tk, i + Tk - Tq + 1) : Tk;
      for (int r = 0; r < rep; ++r) {
        int h = hk * rep + r;
        cpu::load_f32(qp + b * qs[0] + h * qs[1] + i * qs[2], &qf[size_t(r) * D], D);
      }
      for (int j = 0; j < jmax; ++j) {
        cpu::load_f32(kp + b * ks[0] + hk * ks[1] + j * ks[2], kf.data(), D);
        for (int r = 0; r < rep; ++r) scores[size_t(r) * Tk + j] = cpu::dot_f32(&qf[size_t(r) * D], kf.data(), D) * scale;
      }
      // Mask, then a stable softmax per query head.
      std::vector<float> inv(rep);
      for (int r = 0; r < rep; ++r) inv[r] = softmax_row(&scores[size_t(r) * Tk], jmax, mask, b, hk * rep + r, i);
      std::fill(acc.begin(), acc.end(), 0.f);
      for (int j = 0; j < jmax; ++j) {
        cpu::load_f32(vp + b * vs[0] + hk * vs[1] + j * vs[2], vf.data(), Dv);
        for (int r = 0; r < rep; ++r) {
          float p = scores[size_t(r) * Tk + j];
          if (p != 0.f) cpu::axpy_f32(p, vf.data(), &acc[size_t(r) * Dv], Dv);
        }
      }
      for (int r = 0; r < rep; ++r) {
        int h = hk * rep + r;
        // A query that sees no key at all gets zeros, never NaN.
        float* a = &acc[size_t(r) * Dv];
        for (int d = 0; d < Dv; ++d) a[d] *= inv[r];
        cpu::store_f32(a, op + ((int64_t(b) * Hq + h) * Tq + i) * Dv, Dv);
      }
    }
  });
}

}  // namespace

void ScaledDotProductAttention::eval_cpu(const std::vector<array>& inputs, array& out) {
  array q = unit_last_stride(inputs[0]);
  array k = unit_last_stride(inputs[1]);
  array v = unit_last_stride(inputs[2]);
  out.set_data(allocator::malloc(out.nbytes()));
  if (out.size() == 0) return;
  std::optional<array> mask;
  if (has_mask_) mask = inputs[3];
  cpu::dispatch_float(out.dtype(), "scaled_dot_product_attention", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (!std::is_same_v<T, double>) {
      // From 16 queries the two sgemms win over one query at a time.
      if (q.shape(2) >= 16) return sdpa_blocked<T>(q, k, v, mask ? &*mask : nullptr, out, scale_, causal_);
    }
    sdpa_rows<T>(q, k, v, mask ? &*mask : nullptr, out, scale_, causal_);
  });
}

}  // namespace uma::fast
