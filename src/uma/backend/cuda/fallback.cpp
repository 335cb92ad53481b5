// Primitives that have no CUDA kernel yet: each runs its CPU kernel on host
// copies of its inputs (cuda::cpu_fallback notes this once per primitive on
// stderr, or throws naming it when the fallback is off). A kernel that
// lands removes its name from these lists.
#include "uma/backend/cuda/device.h"
#include "uma/core/primitives/all.h"

namespace uma {

#define UMA_CUDA_FALLBACK(P) \
  void P::eval_gpu(const std::vector<array>& inputs, array& out) { \
    std::vector<array> outs{out};                                  \
    cuda::cpu_fallback(*this, inputs, outs);                       \
  }
#define UMA_CUDA_MULTI_FALLBACK(P)                                                    \
  void P::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) { \
    cuda::cpu_fallback(*this, inputs, outputs);                                       \
  }

#define UMA_CUDA_FALLBACK_PRIMITIVES(X)                                                                           \
  X(Convolution) X(FFT) X(Hadamard) X(GatherMM) X(SegmentedMM) X(BlockMaskedMM) X(Inverse) X(Cholesky) X(Solve) \
  X(GatherQMM)
#define UMA_CUDA_MULTI_FALLBACK_PRIMITIVES(X) \
  X(CustomTransforms) X(Depends) X(QRF) X(SVD) X(Eigh) X(Eig) X(LUF) X(Quantize)

UMA_CUDA_FALLBACK_PRIMITIVES(UMA_CUDA_FALLBACK)
UMA_CUDA_MULTI_FALLBACK_PRIMITIVES(UMA_CUDA_MULTI_FALLBACK)

}  // namespace uma
