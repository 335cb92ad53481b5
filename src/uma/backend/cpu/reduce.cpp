// CPU kernel of Reduce. The input's dimensions are put in memory order and
// merged where contiguous; the innermost one then decides the loop:
//   reduced innermost -> "row" reduction: each output reduces contiguous runs;
//   kept innermost    -> "column" reduction: contiguous rows are accumulated
//                        into a vector of outputs;
// anything else runs the same loops with strides. Work is split across the
// thread pool over a kept dimension (disjoint outputs) or, when the outputs
// are few, over a reduced dimension with one partial result per thread.
#include <algorithm>
#include <complex>
#include <cstring>
#include <limits>
#include <memory>

#include "uma/backend/cpu/simd/reduce_avx2.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/core/primitives/reduction.h"

namespace uma {

namespace {

struct Dim {
  int64_t n;    // extent
  int64_t in;   // input stride (elements)
  int64_t out;  // output stride; 0 for reduced dims
};

// Dims of `in` in memory order (outer first), size-1 dims dropped, contiguous
// neighbours merged. Broadcast (stride-0) dims go outermost.
std::vector<Dim> make_plan(const array& in, const std::vector<int>& axes) {
  int nd = int(in.ndim());
  std::vector<bool> reduced(nd, false);
  for (int a : axes) reduced[a] = true;
  std::vector<int64_t> ost(nd);
  int64_t s = 1;
  for (int d = nd - 1; d >= 0; --d) {
    ost[d] = reduced[d] ? 0 : s;
    if (!reduced[d]) s *= in.shape(d);
  }
  std::vector<Dim> dims;
  for (int d = 0; d < nd; ++d) {
    if (in.shape(d) != 1) dims.push_back({in.shape(d), in.strides()[d], ost[d]});
  }
  auto key = [](const Dim& d) { return d.in == 0 ? std::numeric_limits<int64_t>::max() : std::abs(d.in); };
  std::stable_sort(dims.begin(), dims.end(), [&](const Dim& a, const Dim& b) { return key(a) > key(b); });
  std::vector<Dim> merged;
  for (const Dim& d : dims) {
    if (!merged.empty()) {
      Dim& p = merged.back();
      if (p.in == d.in * d.n && p.out == d.out * d.n) {
        p = {p.n * d.n, d.in, d.out};
        continue;
      }
    }
    merged.push_back(d);
  }
  if (merged.empty()) merged.push_back({1, 0, 0});
  return merged;
}

template <typename T>
constexpr bool is_half = std::is_same_v<T, float16_t> || std::is_same_v<T, bfloat16_t>;
template <typename T>
constexpr bool is_cplx = std::is_same_v<T, complex64_t> || std::is_same_v<T, std::complex<double>>;

template <typename Acc, typename T>
inline Acc to_acc(T v) {
  if constexpr (std::is_same_v<T, complex64_t>) {
    return Acc(v.real(), v.imag());
  } else if constexpr (is_half<T>) {
    return Acc(static_cast<float>(v));
  } else {
    return static_cast<Acc>(v);
  }
}

template <typename T>
inline bool nonzero(T v) {
  if constexpr (is_half<T>) {
    return static_cast<float>(v) != 0.f;
  } else {
    return v != T(0);
  }
}

// --- reduction operators: init, combine, a row reduced to one value, and a
// row accumulated into `n` outputs (acc stride as, input stride ps).

template <typename T, typename Acc>
struct SumOp {
  static Acc init() { return Acc(0); }
  static Acc combine(Acc a, Acc b) { return a + b; }
  static Acc row(const T* p, int64_t n, int64_t s) {
    if constexpr (std::is_same_v<Acc, double> && (std::is_floating_point_v<T> || is_half<T>)) {
      if (s == 1) return cpu::simd::sum_row(p, n);
    }
    Acc a0 = init(), a1 = init();
    int64_t i = 0;
    for (; i + 2 <= n; i += 2) {
      a0 += to_acc<Acc>(p[i * s]);
      a1 += to_acc<Acc>(p[(i + 1) * s]);
    }
    if (i < n) a0 += to_acc<Acc>(p[i * s]);
    return a0 + a1;
  }
  static void col(Acc* a, int64_t as, const T* p, int64_t ps, int64_t n) {
    if constexpr (std::is_same_v<Acc, double> && (std::is_floating_point_v<T> || is_half<T>)) {
      if (as == 1 && ps == 1) return cpu::simd::sum_col(a, p, n);
    }
    for (int64_t j = 0; j < n; ++j) a[j * as] += to_acc<Acc>(p[j * ps]);
  }
};

template <typename T, typename Acc>
struct ProdOp {
  static Acc init() { return Acc(1); }
  static Acc combine(Acc a, Acc b) { return a * b; }
  static Acc row(const T* p, int64_t n, int64_t s) {
    Acc a = init();
    for (int64_t i = 0; i < n; ++i) a *= to_acc<Acc>(p[i * s]);
    return a;
  }
  static void col(Acc* a, int64_t as, const T* p, int64_t ps, int64_t n) {
    for (int64_t j = 0; j < n; ++j) a[j * as] *= to_acc<Acc>(p[j * ps]);
  }
};

// Max / min; NaN wins. Acc is T (float32 for half types).
template <bool Max, typename T, typename Acc>
struct ExtremeOp {
  static Acc init() {
    if constexpr (std::is_same_v<Acc, bool>) {
      return !Max;
    } else if constexpr (std::is_floating_point_v<Acc>) {
      return Max ? -std::numeric_limits<Acc>::infinity() : std::numeric_limits<Acc>::infinity();
    } else {
      return Max ? std::numeric_limits<Acc>::lowest() : std::numeric_limits<Acc>::max();
    }
  }
  static Acc combine(Acc a, Acc b) {
    if constexpr (std::is_floating_point_v<Acc>) {
      if (std::isnan(a)) return a;
      if (std::isnan(b)) return b;
    }
    return Max ? (b > a ? b : a) : (b < a ? b : a);
  }
  static Acc row(const T* p, int64_t n, int64_t s) {
    if constexpr (std::is_same_v<Acc, float>) {
      if (s == 1) return cpu::simd::extreme_row<Max>(p, n);
    }
    Acc a = init();
    for (int64_t i = 0; i < n; ++i) a = combine(a, to_acc<Acc>(p[i * s]));
    return a;
  }
  static void col(Acc* a, int64_t as, const T* p, int64_t ps, int64_t n) {
    if constexpr (std::is_same_v<Acc, float>) {
      if (as == 1 && ps == 1) return cpu::simd::extreme_col<Max>(a, p, n);
    }
    for (int64_t j = 0; j < n; ++j) a[j * as] = combine(a[j * as], to_acc<Acc>(p[j * ps]));
  }
};

// all (Any=false) / any: Acc is bool; rows stop at the first deciding element.
template <bool Any, typename T>
struct LogicalOp {
  static bool init() { return !Any; }
  static bool combine(bool a, bool b) { return Any ? (a || b) : (a && b); }
  static bool row(const T* p, int64_t n, int64_t s) {
    for (int64_t i = 0; i < n; ++i) {
      if (nonzero(p[i * s]) == Any) return Any;
    }
    return !Any;
  }
  static void col(bool* a, int64_t as, const T* p, int64_t ps, int64_t n) {
    for (int64_t j = 0; j < n; ++j) a[j * as] = combine(a[j * as], nonzero(p[j * ps]));
  }
};

// Column reduction of `rows` rows `rs` apart; sums of unit-stride float rows
// block rows in registers.
template <typename Op, typename T, typename Acc>
void cols(Acc* a, int64_t as, const T* p, int64_t ps, int64_t n, int64_t rows, int64_t rs) {
  if constexpr (std::is_same_v<Op, SumOp<T, double>> && (std::is_same_v<T, float> || is_half<T>)) {
    if (as == 1 && ps == 1) return cpu::simd::sum_cols(a, p, n, rows, rs);
  }
  for (int64_t r = 0; r < rows; ++r) Op::col(a, as, p + r * rs, ps, n);
}

// Runs the loops over all dims into acc (already initialized). A kept
// innermost dim under a reduced one runs as a block of rows (cols above).
template <typename Op, typename T, typename Acc>
void execute(const T* in, Acc* acc, const std::vector<Dim>& dims) {
  int D = int(dims.size());
  const Dim& last = dims[D - 1];
  bool block = D >= 2 && last.out != 0 && dims[D - 2].out == 0;
  int loop_dims = block ? D - 2 : D - 1;
  int64_t outer = 1;
  for (int d = 0; d < loop_dims; ++d) outer *= dims[d].n;
  std::vector<int64_t> idx(D, 0);
  int64_t io = 0, oo = 0;
  for (int64_t r = 0; r < outer; ++r) {
    if (block) {
      cols<Op>(acc + oo, last.out, in + io, last.in, last.n, dims[D - 2].n, dims[D - 2].in);
    } else if (last.out == 0) {
      acc[oo] = Op::combine(acc[oo], Op::row(in + io, last.n, last.in));
    } else {
      Op::col(acc + oo, last.out, in + io, last.in, last.n);
    }
    for (int d = loop_dims - 1; d >= 0; --d) {
      if (++idx[d] < dims[d].n) {
        io += dims[d].in;
        oo += dims[d].out;
        break;
      }
      io -= (dims[d].n - 1) * dims[d].in;
      oo -= (dims[d].n - 1) * dims[d].out;
      idx[d] = 0;
    }
  }
}

template <typename Op, typename T, typename Acc>
void reduce_parallel(const T* in, Acc* acc, size_t out_size, const std::vector<Dim>& dims) {
  std::fill(acc, acc + out_size, Op::init());
  int64_t total = 1;
  for (const Dim& d : dims) total *= d.n;
  if (total == 0) return;
  int P = cpu::num_threads();
  int D = int(dims.size());
  if (P <= 1 || total < (int64_t(1) << 16)) return execute<Op>(in, acc, dims);
  // A kept dim splits into disjoint outputs; an innermost one only when its
  // pieces stay long enough to vectorize.
  int kept = -1, red = -1;
  for (int d = 0; d < D; ++d) {
    if (dims[d].out != 0) {
      if (d == D - 1 && dims[d].n < 64 * P) continue;
      if (kept < 0 || dims[d].n > dims[kept].n) kept = d;
    } else if (red < 0 || dims[d].n > dims[red].n) {
      red = d;
    }
  }
  if (kept >= 0 && dims[kept].n >= P) {
    const Dim& k = dims[kept];
    size_t grain = std::max<int64_t>(1, (int64_t(1) << 15) / std::max<int64_t>(1, total / k.n));
    cpu::parallel_for(size_t(k.n), grain, [&](size_t b, size_t e) {
      std::vector<Dim> sub = dims;
      sub[kept].n = int64_t(e - b);
      execute<Op>(in + int64_t(b) * k.in, acc + int64_t(b) * k.out, sub);
    });
    return;
  }
  if (red < 0 || dims[red].n < 2) return execute<Op>(in, acc, dims);
  // Few outputs: each thread reduces a slice of a reduced dim into its own
  // partial; partials are combined in a fixed order (deterministic).
  const Dim& r = dims[red];
  int parts = int(std::min<int64_t>(P, r.n));
  std::unique_ptr<Acc[]> partial(new Acc[size_t(parts - 1) * out_size]);
  std::fill(partial.get(), partial.get() + size_t(parts - 1) * out_size, Op::init());
  cpu::parallel_for(size_t(parts), 1, [&](size_t b, size_t e) {
    for (size_t p = b; p < e; ++p) {
      int64_t r0 = r.n * int64_t(p) / parts, r1 = r.n * int64_t(p + 1) / parts;
      std::vector<Dim> sub = dims;
      sub[red].n = r1 - r0;
      execute<Op>(in + r0 * r.in, p == 0 ? acc : partial.get() + (p - 1) * out_size, sub);
    }
  });
  for (int p = 1; p < parts; ++p) {
    const Acc* q = partial.get() + size_t(p - 1) * out_size;
    for (size_t i = 0; i < out_size; ++i) acc[i] = Op::combine(acc[i], q[i]);
  }
}

template <typename O, typename Acc>
inline O from_acc(Acc v) {
  if constexpr (std::is_same_v<Acc, std::complex<double>>) {
    return convert<O>(complex64_t(float(v.real()), float(v.imag())));
  } else {
    return convert<O>(v);
  }
}

// True when an Acc buffer can be the output buffer itself.
template <typename Acc>
bool acc_is_output(Dtype od) {
  if constexpr (std::is_same_v<Acc, std::complex<double>>) {
    return false;
  } else if constexpr (std::is_integral_v<Acc> && !std::is_same_v<Acc, bool>) {
    return is_integral(od) && size_of(od) == sizeof(Acc);  // same bits, two's complement
  } else {
    return od == dtype_of<Acc>;
  }
}

template <typename Op, typename Acc, typename T>
void run(const array& in, array& out, const std::vector<Dim>& dims) {
  const T* src = static_cast<const T*>(in.raw_ptr());
  size_t n = out.size();
  if (acc_is_output<Acc>(out.dtype())) {
    reduce_parallel<Op>(src, static_cast<Acc*>(out.raw_ptr()), n, dims);
    return;
  }
  std::unique_ptr<Acc[]> acc(new Acc[n]);
  reduce_parallel<Op>(src, acc.get(), n, dims);
  dispatch_all(out.dtype(), [&](auto tag) {
    using O = typename decltype(tag)::type;
    O* d = static_cast<O*>(out.raw_ptr());
    for (size_t i = 0; i < n; ++i) d[i] = from_acc<O>(acc[i]);
  });
}

// Sum and product accumulate in float64 for float outputs, complex128 for
// complex, and wrap-around unsigned integers of the output's width otherwise.
template <template <typename, typename> class Op, typename T>
void run_arith(const array& in, array& out, const std::vector<Dim>& dims) {
  Dtype od = out.dtype();
  if constexpr (is_cplx<T>) {
    run<Op<T, std::complex<double>>, std::complex<double>, T>(in, out, dims);
  } else if (is_complex(od)) {
    run<Op<T, std::complex<double>>, std::complex<double>, T>(in, out, dims);
  } else if (is_floating_point(od)) {
    run<Op<T, double>, double, T>(in, out, dims);
  } else if (size_of(od) == 8) {
    run<Op<T, uint64_t>, uint64_t, T>(in, out, dims);
  } else {
    run<Op<T, uint32_t>, uint32_t, T>(in, out, dims);
  }
}

}  // namespace

void Reduce::eval_cpu(const std::vector<array>& inputs, array& out) {
  const array& in = inputs[0];
  out.set_data(allocator::malloc(out.nbytes()));
  if (out.size() == 0) return;
  std::vector<Dim> dims = make_plan(in, axes_);
  if (in.size() == 0) dims = {{0, 0, 0}};
  dispatch_all(in.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using Ext = std::conditional_t<is_half<T>, float, T>;
    switch (type_) {
      case Type::sum: return run_arith<SumOp, T>(in, out, dims);
      case Type::prod: return run_arith<ProdOp, T>(in, out, dims);
      case Type::all: return run<LogicalOp<false, T>, bool, T>(in, out, dims);
      case Type::any: return run<LogicalOp<true, T>, bool, T>(in, out, dims);
      case Type::max:
      case Type::min:
        if constexpr (is_cplx<T>) {
          throw std::invalid_argument(std::string("[") + name() + "] complex inputs have no order");
        } else if (type_ == Type::max) {
          return run<ExtremeOp<true, T, Ext>, Ext, T>(in, out, dims);
        } else {
          return run<ExtremeOp<false, T, Ext>, Ext, T>(in, out, dims);
        }
    }
  });
}

}  // namespace uma
