// Reduce on the GPU: sum, prod, max, min, all, any over any axes of any view,
// with the CPU's accumulators (float64 for float outputs, complex128 for
// complex, wrap-around unsigned ints of the output's width otherwise; max/min
// of half types in float32, NaN winning). The kernels are in reduce.cuh.
#include <cassert>

#include "uma/backend/cuda/copy.h"
#include "uma/backend/cuda/reduce.cuh"
#include "uma/core/primitives/reduction.h"

namespace uma {

namespace {

using cuda::red::ReducePlan;

enum class AccKind { f64, c128, u64, u32 };

// The CPU's run_arith choice.
AccKind arith_acc(Dtype in, Dtype out) {
  if (is_complex(in) || is_complex(out)) return AccKind::c128;
  if (is_floating_point(out)) return AccKind::f64;
  return size_of(out) == 8 ? AccKind::u64 : AccKind::u32;
}

// (in, out) pairs of sum/prod that run on the GPU; the rest (real inputs into
// complex outputs, floats into integers: no op makes them) fall back.
bool arith_on_gpu(Dtype in, Dtype out) {
  switch (arith_acc(in, out)) {
    case AccKind::c128:
      return is_complex(in);
    case AccKind::f64:
      return true;
    default:
      return !is_inexact(in);
  }
}

// Plans the reduction of in over axes; when the reduced dims do not merge
// into one run, `copy` gets them innermost and contiguous and the plan reads it.
ReducePlan make_plan(const array& in, const std::vector<int>& axes, std::optional<array>& copy,
                     const Stream& s) {
  ReducePlan p;
  if (in.size() == 0) {
    // Zero elements reduced into each output: every output is the identity.
    p.M = 1;
    for (int d = 0; d < int(in.ndim()); ++d) {
      if (std::find(axes.begin(), axes.end(), d) == axes.end()) p.M *= in.shape(d);
    }
    p.R = 0;
    return p;
  }
  if (cuda::red::plan_reduce(in.shape(), in.strides(), axes, p)) return p;
  Shape shape;
  Strides st;
  for (int pass = 0; pass < 2; ++pass) {
    for (int d = 0; d < int(in.ndim()); ++d) {
      bool red = std::find(axes.begin(), axes.end(), d) != axes.end();
      if (red == (pass == 1)) {
        shape.push_back(in.shape(d));
        st.push_back(in.strides()[d]);
      }
    }
  }
  copy.emplace(shape, in.dtype(), nullptr, std::vector<array>{});
  cuda::out_ptr(*copy, s);
  cuda::copy_strided(in, shape, st, 0, *copy, detail::row_strides(shape), 0, s);
  std::vector<int> tail;
  for (int d = int(in.ndim()) - int(axes.size()); d < int(in.ndim()); ++d) tail.push_back(d);
  bool ok = cuda::red::plan_reduce(copy->shape(), copy->strides(), tail, p);
  assert(ok);
  (void)ok;
  return p;
}

template <typename Op, typename T>
void run(const void* in, const ReducePlan& p, void* out, Dtype od, const Stream& s) {
  cuda::red::reduce_launch<Op, T>(static_cast<const T*>(in), p, out, od, s);
}

}  // namespace

void Reduce::eval_gpu(const std::vector<array>& inputs, array& out) {
  using namespace cuda::red;
  const array& in = inputs[0];
  Dtype it = in.dtype(), od = out.dtype();
  bool arith = type_ == Type::sum || type_ == Type::prod;
  if ((type_ == Type::max || type_ == Type::min) && is_complex(it)) {
    throw std::invalid_argument(std::string("[") + name() + "] complex inputs have no order");
  }
  if (arith && !arith_on_gpu(it, od)) {
    std::vector<array> outs{out};
    cuda::cpu_fallback(*this, inputs, outs);
    return;
  }
  const Stream s = stream();
  void* o = cuda::out_ptr(out, s);
  if (out.size() == 0) return;
  std::optional<array> copy;
  ReducePlan p = make_plan(in, axes_, copy, s);
  const void* x = cuda::in_ptr(copy ? *copy : in, s);
  AccKind acc = arith ? arith_acc(it, od) : AccKind::f64;
  cuda::dispatch(it, [&](auto tag) {
    using T = typename decltype(tag)::type;
    constexpr bool cplx = std::is_same_v<T, cuda::complex64>;
    constexpr bool inexact = cplx || std::is_floating_point_v<T> || cuda::is_half_v<T>;
    using Ext = std::conditional_t<cuda::is_half_v<T>, float, T>;
    switch (type_) {
      case Type::sum:
      case Type::prod: {
        bool sum = type_ == Type::sum;
        if constexpr (cplx) {
          return sum ? run<SumOp<cdouble>, T>(x, p, o, od, s)
                     : run<ProdOp<cdouble>, T>(x, p, o, od, s);
        } else {
          if (acc == AccKind::f64) {
            return sum ? run<SumOp<double>, T>(x, p, o, od, s)
                       : run<ProdOp<double>, T>(x, p, o, od, s);
          }
          if constexpr (!inexact) {
            if (acc == AccKind::u64) {
              return sum ? run<SumOp<uint64_t>, T>(x, p, o, od, s)
                         : run<ProdOp<uint64_t>, T>(x, p, o, od, s);
            }
            return sum ? run<SumOp<uint32_t>, T>(x, p, o, od, s)
                       : run<ProdOp<uint32_t>, T>(x, p, o, od, s);
          }
        }
        throw std::logic_error("[reduce] unreachable accumulator choice");
      }
      case Type::max:
      case Type::min:
        if constexpr (!cplx) {
          if (type_ == Type::max) return run<ExtremeOp<true, Ext>, T>(x, p, o, od, s);
          return run<ExtremeOp<false, Ext>, T>(x, p, o, od, s);
        }
        return;
      case Type::all:
        return run<LogicalOp<false>, T>(x, p, o, od, s);
      case Type::any:
        return run<LogicalOp<true>, T>(x, p, o, od, s);
    }
  });
}

}  // namespace uma
