// ArgReduce on the GPU: the index (uint32) of the first max/min along one
// axis of any view, NaN counting as the extreme (the first NaN wins), half
// types compared in float32, as the CPU. It runs the reduction driver of
// reduce.cuh with (value, index) pairs whose combination keeps the smaller
// index on ties, so split rows give the CPU's answer.
#include <cassert>

#include "uma/backend/cuda/reduce.cuh"
#include "uma/core/primitives/reduction.h"

namespace uma {

void ArgReduce::eval_gpu(const std::vector<array>& inputs, array& out) {
  using namespace cuda::red;
  const array& in = inputs[0];
  if (is_complex(in.dtype())) {
    throw std::invalid_argument(std::string("[") + name() + "] complex64 arrays have no order");
  }
  const Stream s = stream();
  void* o = cuda::out_ptr(out, s);
  if (out.size() == 0) return;
  ReducePlan p;
  bool one_run = plan_reduce(in.shape(), in.strides(), {axis_}, p);  // one axis: always one run
  assert(one_run);
  (void)one_run;
  const void* x = cuda::in_ptr(in, s);
  bool is_max = type_ == Type::argmax;
  cuda::dispatch(in.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (!std::is_same_v<T, cuda::complex64>) {
      using V = std::conditional_t<cuda::is_half_v<T>, float, T>;
      auto* xt = static_cast<const T*>(x);
      if (is_max) {
        reduce_launch<ArgOp<true, V>, T>(xt, p, o, uint32, s);
      } else {
        reduce_launch<ArgOp<false, V>, T>(xt, p, o, uint32, s);
      }
    }
  });
}

}  // namespace uma
