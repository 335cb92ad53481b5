// eval_gpu of every primitive in a build without a GPU backend, generated
// from the family lists: each throws not_implemented naming the primitive.
// A CUDA build leaves this file out and defines eval_gpu in
// backend/cuda/<family>.cu instead.
#include <string>

#include "uma/core/primitives/all.h"

namespace uma {

namespace {
[[noreturn]] void no_gpu_backend(const Primitive& p) {
  throw not_implemented(std::string("[") + p.name() + "] no GPU backend built (configure with -DUMA_CUDA=ON)");
}
}  // namespace

#define UMA_NO_GPU_KERNEL(P) \
  void P::eval_gpu(const std::vector<array>&, array&) { no_gpu_backend(*this); }

UMA_CORE_PRIMITIVES(UMA_NO_GPU_KERNEL)

#define UMA_NO_GPU_MULTI_KERNEL(P) \
  void P::eval_gpu(const std::vector<array>&, std::vector<array>&) { no_gpu_backend(*this); }

UMA_CORE_MULTI_PRIMITIVES(UMA_NO_GPU_MULTI_KERNEL)

namespace fast {
UMA_FAST_PRIMITIVES(UMA_NO_GPU_KERNEL)
}  // namespace fast

}  // namespace uma
