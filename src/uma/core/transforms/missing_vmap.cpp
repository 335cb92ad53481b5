// vmap rules not written yet, one line per primitive: UMA_NO_VMAP(P) defines
// P::vmap to throw not_implemented("[<name>] has no vmap rule yet"). Writing
// a rule (with ops, in primitives/<family>_vmap.cpp) takes its line off.
// The gradient list is missing_grad.cpp.
#include "uma/core/primitives/all.h"

namespace uma {

// manipulation (vjp and jvp in primitives/manipulation.cpp)
UMA_NO_VMAP(Concatenate)
UMA_NO_VMAP(Pad)
UMA_NO_VMAP(SliceUpdate)
UMA_NO_VMAP(DynamicSlice)
UMA_NO_VMAP(DynamicSliceUpdate)
UMA_NO_VMAP(Diagonal)

// indexing (vjp and jvp in primitives/indexing.cpp)
UMA_NO_VMAP(Gather)
UMA_NO_VMAP(Scatter)
UMA_NO_VMAP(GatherAxis)
UMA_NO_VMAP(ScatterAxis)

// sort
UMA_NO_VMAP(Sort)
UMA_NO_VMAP(ArgSort)
UMA_NO_VMAP(Partition)
UMA_NO_VMAP(ArgPartition)

// random
UMA_NO_VMAP(RandomBits)

// quantized
UMA_NO_VMAP(Quantize)
UMA_NO_VMAP(Dequantize)
UMA_NO_VMAP(QuantizedMatmul)
UMA_NO_VMAP(GatherQMM)

// fast
UMA_NO_VMAP(fast::RMSNorm)
UMA_NO_VMAP(fast::LayerNorm)
UMA_NO_VMAP(fast::RoPE)
UMA_NO_VMAP(fast::ScaledDotProductAttention)

}  // namespace uma
