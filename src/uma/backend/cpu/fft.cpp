// CPU kernel of FFT: a mixed-radix Stockham FFT (radix 4, 2, 3, 5) in
// complex<double> with twiddles from exact-angle sincos, and Bluestein's
// chirp-z for lengths with another prime factor (a power-of-two convolution),
// so every length is O(n log n). A transform over several axes is a sequence
// of 1-D passes over a row-major complex<double> copy of the input; each pass
// gathers one line along its axis into scratch, transforms it and scatters
// it back, lines split across threads.
#include <cmath>
#include <complex>
#include <map>
#include <memory>
#include <mutex>
#include <numbers>
#include <vector>

#include "uma/backend/cpu/row_major.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/core/allocator.h"
#include "uma/core/primitives/fft.h"

namespace uma {

namespace {

using cd = std::complex<double>;

inline cd mul_neg_i(cd z) { return {z.imag(), -z.real()}; }  // z * -i

// e^{-2 pi i num / den}, the angle reduced exactly first.
cd root(int64_t num, int64_t den) {
  num %= den;
  double a = -2.0 * std::numbers::pi * double(num) / double(den);
  return {std::cos(a), std::sin(a)};
}

// Forward DFT butterflies of radix 2..5 on v[0..R) (w = e^{-2 pi i / R}).
inline void butterfly2(cd* v) {
  cd a = v[0], b = v[1];
  v[0] = a + b;
  v[1] = a - b;
}
inline void butterfly3(cd* v) {
  constexpr double s = 0.86602540378443864676;  // sin(2 pi / 3)
  cd t = v[1] + v[2], d = mul_neg_i((v[1] - v[2]) * s), m = v[0] - 0.5 * t;
  v[0] += t;
  v[1] = m + d;
  v[2] = m - d;
}
inline void butterfly4(cd* v) {
  cd t0 = v[0] + v[2], t1 = v[0] - v[2], t2 = v[1] + v[3], t3 = mul_neg_i(v[1] - v[3]);
  v[0] = t0 + t2;
  v[2] = t0 - t2;
  v[1] = t1 + t3;
  v[3] = t1 - t3;
}
inline void butterfly5(cd* v) {
  constexpr double c1 = 0.30901699437494742410, c2 = -0.80901699437494742410;  // cos(2 pi / 5), cos(4 pi / 5)
  constexpr double s1 = 0.95105651629515357212, s2 = 0.58778525229247312917;   // sin(2 pi / 5), sin(4 pi / 5)
  cd a = v[0], t1 = v[1] + v[4], t2 = v[2] + v[3], t3 = v[1] - v[4], t4 = v[2] - v[3];
  cd m1 = a + c1 * t1 + c2 * t2, m2 = a + c2 * t1 + c1 * t2;
  cd d1 = mul_neg_i(s1 * t3 + s2 * t4), d2 = mul_neg_i(s2 * t3 - s1 * t4);
  v[0] = a + t1 + t2;
  v[1] = m1 + d1;
  v[4] = m1 - d1;
  v[2] = m2 + d2;
  v[3] = m2 - d2;
}

// A plan for complex DFTs of one length n: Stockham stages when n = 2^a 3^b
// 5^c, else Bluestein over a power-of-two plan. Immutable once built, so one
// plan serves every thread.
class Plan {
 public:
  explicit Plan(int64_t n) : n_(n) {
    int64_t rest = n;
    std::vector<int> radices;
    for (int r : {4, 2, 3, 5}) {
      while (rest % r == 0) {
        radices.push_back(r);
        rest /= r;
      }
    }
    if (rest == 1) {
      int64_t ns = 1;
      for (int r : radices) {
        Stage st{r, ns, std::vector<cd>(size_t(ns) * r)};
        for (int64_t k = 0; k < ns; ++k) {
          for (int q = 0; q < r; ++q) st.twiddles[k * r + q] = root(q * k, ns * r);
        }
        stages_.push_back(std::move(st));
        ns *= r;
      }
      return;
    }
    int64_t m = 1;
    while (m < 2 * n - 1) m *= 2;
    sub_ = std::make_unique<Plan>(m);
    chirp_.resize(n);
    for (int64_t k = 0; k < n; ++k) {
      // e^{-i pi k^2 / n} = root(k^2 mod 2n, 2n)
      chirp_[k] = root(int64_t((unsigned __int128)(k) * k % uint64_t(2 * n)), 2 * n);
    }
    kernel_.assign(m, cd(0));
    kernel_[0] = std::conj(chirp_[0]);
    for (int64_t k = 1; k < n; ++k) kernel_[k] = kernel_[m - k] = std::conj(chirp_[k]);
    std::vector<cd> work(sub_->work_size());
    sub_->forward(kernel_.data(), work.data());
    for (cd& z : kernel_) z /= double(m);
  }

  int64_t size() const { return n_; }
  // Scratch (in complex values) that forward/inverse need.
  size_t work_size() const { return sub_ ? size_t(sub_->size()) + sub_->work_size() : size_t(n_); }

  // x[0..n) <- DFT(x), unscaled; e^{-2 pi i jk / n}.
  void forward(cd* x, cd* work) const {
    if (sub_) return bluestein(x, work);
    cd* src = x;
    cd* dst = work;
    for (const Stage& st : stages_) {
      stage(st, src, dst);
      std::swap(src, dst);
    }
    if (src != x) std::copy(src, src + n_, x);
  }
  // x[0..n) <- n * inverse DFT(x) (unscaled): conj(DFT(conj(x))).
  void inverse(cd* x, cd* work) const {
    for (int64_t i = 0; i < n_; ++i) x[i] = std::conj(x[i]);
    forward(x, work);
    for (int64_t i = 0; i < n_; ++i) x[i] = std::conj(x[i]);
  }

 private:
  struct Stage {
    int radix;
    int64_t ns;                 // the product of the earlier radices
    std::vector<cd> twiddles;   // [k * radix + q] = e^{-2 pi i q k / (ns radix)}
  };

  // One Stockham pass: butterfly j (of n / R) reads src[j + q n/R], q < R,
  // twiddled, and writes dst[(j / ns) ns R + j % ns + q ns].
  template <int R>
  void stage_r(const Stage& st, const cd* src, cd* dst) const {
    int64_t stride = n_ / R, ns = st.ns;
    cd v[R];
    for (int64_t j0 = 0; j0 < stride; j0 += ns) {
      cd* out = dst + j0 * R;
      for (int64_t k = 0; k < ns; ++k) {
        const cd* w = &st.twiddles[k * R];
        v[0] = src[j0 + k];
        for (int q = 1; q < R; ++q) v[q] = src[j0 + k + q * stride] * w[q];
        if constexpr (R == 2) butterfly2(v);
        if constexpr (R == 3) butterfly3(v);
        if constexpr (R == 4) butterfly4(v);
        if constexpr (R == 5) butterfly5(v);
        for (int q = 0; q < R; ++q) out[k + q * ns] = v[q];
      }
    }
  }
  void stage(const Stage& st, const cd* src, cd* dst) const {
    switch (st.radix) {
      case 2: return stage_r<2>(st, src, dst);
      case 3: return stage_r<3>(st, src, dst);
      case 4: return stage_r<4>(st, src, dst);
      default: return stage_r<5>(st, src, dst);
    }
  }

  // X_j = c_j sum_k (x_k c_k) conj(c_{j-k}), c_k = e^{-i pi k^2 / n}: a
  // circular convolution of length m >= 2n - 1 done with the power-of-two plan.
  void bluestein(cd* x, cd* work) const {
    int64_t m = sub_->size();
    cd* a = work;
    cd* sub_work = work + m;
    for (int64_t k = 0; k < n_; ++k) a[k] = x[k] * chirp_[k];
    std::fill(a + n_, a + m, cd(0));
    sub_->forward(a, sub_work);
    for (int64_t k = 0; k < m; ++k) a[k] *= kernel_[k];
    sub_->inverse(a, sub_work);
    for (int64_t k = 0; k < n_; ++k) x[k] = a[k] * chirp_[k];
  }

  int64_t n_;
  std::vector<Stage> stages_;
  std::unique_ptr<Plan> sub_;  // Bluestein: the length-m plan
  std::vector<cd> chirp_;      // Bluestein: c_k, k < n
  std::vector<cd> kernel_;     // Bluestein: DFT(conj(c) wrapped to m) / m
};

// Plans by length, shared between calls (a few dozen kept).
std::shared_ptr<const Plan> plan_for(int64_t n) {
  static std::mutex mu;
  static std::map<int64_t, std::shared_ptr<const Plan>> cache;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(n);
    if (it != cache.end()) return it->second;
  }
  auto p = std::make_shared<const Plan>(n);
  std::lock_guard<std::mutex> lock(mu);
  if (cache.size() >= 64) cache.clear();
  cache.emplace(n, p);
  return p;
}

// Lines along `axis` of a row-major (outer, len, inner) buffer.
struct Lines {
  int64_t outer = 1, len = 1, inner = 1;
  Lines(const Shape& shape, int axis) {
    for (int d = 0; d < int(shape.size()); ++d) {
      if (d < axis) outer *= shape[d];
      if (d == axis) len = shape[d];
      if (d > axis) inner *= shape[d];
    }
  }
  int64_t count() const { return outer * inner; }
  int64_t start(int64_t l) const { return (l / inner) * len * inner + l % inner; }
};

// For every line along `axis` of src (shape `shape`), f(line, scratch) with the
// line gathered into `line` (max(in_len, out_len) values); the first out_len
// values are then scattered to dst's line (out_len along axis). src == dst
// when the lengths match.
template <typename F>
void for_each_line(const cd* src, cd* dst, const Shape& shape, int axis, int64_t out_len, size_t work, F f) {
  Lines in(shape, axis);
  Shape out_shape = shape;
  out_shape[axis] = int32_t(out_len);
  Lines out(out_shape, axis);
  int64_t buf_len = std::max(in.len, out_len);
  size_t grain = size_t(std::max<int64_t>(1, 8192 / std::max<int64_t>(1, buf_len)));
  cpu::parallel_for(size_t(in.count()), grain, [&](size_t begin, size_t end) {
    std::vector<cd> line(buf_len), scratch(work);
    for (size_t l = begin; l < end; ++l) {
      const cd* p = src + in.start(int64_t(l));
      for (int64_t i = 0; i < in.len; ++i) line[i] = p[i * in.inner];
      f(line.data(), scratch.data());
      cd* q = dst + out.start(int64_t(l));
      for (int64_t i = 0; i < out_len; ++i) q[i * out.inner] = line[i];
    }
  });
}

}  // namespace

void FFT::eval_cpu(const std::vector<array>& inputs, array& out) {
  out.set_data(allocator::malloc(out.nbytes()));
  if (out.size() == 0) return;
  array in = cpu::row_major(inputs[0]);
  Shape shape = in.shape();
  std::vector<cd> buf(in.size());
  size_t grain = cpu::grain_for_bytes(sizeof(cd));
  if (in.dtype() == float32) {
    const float* p = static_cast<const float*>(in.raw_ptr());
    cpu::parallel_for(buf.size(), grain, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) buf[i] = cd(p[i], 0.0);
    });
  } else {
    const complex64_t* p = static_cast<const complex64_t*>(in.raw_ptr());
    cpu::parallel_for(buf.size(), grain, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) buf[i] = cd(p[i].real(), p[i].imag());
    });
  }

  auto c2c = [&](int axis) {
    auto plan = plan_for(shape[axis]);
    for_each_line(buf.data(), buf.data(), shape, axis, shape[axis], plan->work_size(), [&](cd* x, cd* w) {
      inverse_ ? plan->inverse(x, w) : plan->forward(x, w);
    });
  };
  int last = axes_.back();
  int64_t n_last = n_.back(), half = n_last / 2 + 1;
  if (real_ && !inverse_) {
    // Real input: the full transform of each line, its first n / 2 + 1 kept.
    auto plan = plan_for(n_last);
    Shape out_shape = shape;
    out_shape[last] = int32_t(half);
    std::vector<cd> next(size_t(in.size() / n_last * half));
    for_each_line(buf.data(), next.data(), shape, last, half, plan->work_size(),
                  [&](cd* x, cd* w) { plan->forward(x, w); });
    buf.swap(next);
    shape = out_shape;
  }
  for (size_t i = 0; i + (real_ ? 1 : 0) < axes_.size(); ++i) c2c(axes_[i]);
  if (real_ && inverse_) {
    // Hermitian completion of the half spectrum, then the inverse transform;
    // the real part drops the imaginary DC / Nyquist terms.
    auto plan = plan_for(n_last);
    Shape out_shape = shape;
    out_shape[last] = int32_t(n_last);
    std::vector<cd> next(size_t(buf.size() / half * n_last));
    for_each_line(buf.data(), next.data(), shape, last, n_last, plan->work_size(), [&](cd* x, cd* w) {
      for (int64_t j = half; j < n_last; ++j) x[j] = std::conj(x[n_last - j]);
      plan->inverse(x, w);
    });
    buf.swap(next);
    shape = out_shape;
  }

  double scale = 1.0;
  if (inverse_) {
    for (int k : n_) scale /= double(k);
  }
  if (out.dtype() == float32) {
    float* q = static_cast<float*>(out.raw_ptr());
    cpu::parallel_for(buf.size(), grain, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) q[i] = float(buf[i].real() * scale);
    });
  } else {
    complex64_t* q = static_cast<complex64_t*>(out.raw_ptr());
    cpu::parallel_for(buf.size(), grain, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) q[i] = complex64_t(float(buf[i].real() * scale), float(buf[i].imag() * scale));
    });
  }
}

}  // namespace uma
