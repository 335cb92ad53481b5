// vmap rules not written yet, one line per primitive: UMA_NO_VMAP(P) defines
// P::vmap to throw not_implemented("[<name>] has no vmap rule yet"). Writing
// a rule (with ops, in primitives/<family>_vmap.cpp) takes its line off.
// The gradient list is missing_grad.cpp.
#include "uma/core/primitives/all.h"

namespace uma {

// elementwise
UMA_NO_VMAP(Abs)
UMA_NO_VMAP(Negative)
UMA_NO_VMAP(Sign)
UMA_NO_VMAP(Exp)
UMA_NO_VMAP(Expm1)
UMA_NO_VMAP(Log)
UMA_NO_VMAP(Log2)
UMA_NO_VMAP(Log10)
UMA_NO_VMAP(Log1p)
UMA_NO_VMAP(Sqrt)
UMA_NO_VMAP(Rsqrt)
UMA_NO_VMAP(Square)
UMA_NO_VMAP(Sin)
UMA_NO_VMAP(Cos)
UMA_NO_VMAP(Tan)
UMA_NO_VMAP(ArcSin)
UMA_NO_VMAP(ArcCos)
UMA_NO_VMAP(ArcTan)
UMA_NO_VMAP(Sinh)
UMA_NO_VMAP(Cosh)
UMA_NO_VMAP(Tanh)
UMA_NO_VMAP(ArcSinh)
UMA_NO_VMAP(ArcCosh)
UMA_NO_VMAP(ArcTanh)
UMA_NO_VMAP(Erf)
UMA_NO_VMAP(ErfInv)
UMA_NO_VMAP(Sigmoid)
UMA_NO_VMAP(Floor)
UMA_NO_VMAP(Ceil)
UMA_NO_VMAP(Round)
UMA_NO_VMAP(LogicalNot)
UMA_NO_VMAP(BitwiseInvert)
UMA_NO_VMAP(StopGradient)
UMA_NO_VMAP(Real)
UMA_NO_VMAP(Imag)
UMA_NO_VMAP(Conjugate)
UMA_NO_VMAP(Add)
UMA_NO_VMAP(Subtract)
UMA_NO_VMAP(Multiply)
UMA_NO_VMAP(Divide)
UMA_NO_VMAP(FloorDivide)
UMA_NO_VMAP(Remainder)
UMA_NO_VMAP(Power)
UMA_NO_VMAP(Maximum)
UMA_NO_VMAP(Minimum)
UMA_NO_VMAP(ArcTan2)
UMA_NO_VMAP(LogAddExp)
UMA_NO_VMAP(NotEqual)
UMA_NO_VMAP(Less)
UMA_NO_VMAP(LessEqual)
UMA_NO_VMAP(Greater)
UMA_NO_VMAP(GreaterEqual)
UMA_NO_VMAP(LogicalAnd)
UMA_NO_VMAP(LogicalOr)
UMA_NO_VMAP(BitwiseAnd)
UMA_NO_VMAP(BitwiseOr)
UMA_NO_VMAP(BitwiseXor)
UMA_NO_VMAP(LeftShift)
UMA_NO_VMAP(RightShift)
UMA_NO_VMAP(Select)
UMA_NO_VMAP(Equal)

// shape
UMA_NO_VMAP(Reshape)
UMA_NO_VMAP(Transpose)
UMA_NO_VMAP(Broadcast)
UMA_NO_VMAP(AsStrided)
UMA_NO_VMAP(Slice)
UMA_NO_VMAP(AsType)
UMA_NO_VMAP(View)
UMA_NO_VMAP(Copy)
UMA_NO_VMAP(Full)
UMA_NO_VMAP(Arange)

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

// reduction
UMA_NO_VMAP(Reduce)
UMA_NO_VMAP(ArgReduce)
UMA_NO_VMAP(Scan)
UMA_NO_VMAP(Softmax)
UMA_NO_VMAP(LogSumExp)

// linalg
UMA_NO_VMAP(Matmul)
UMA_NO_VMAP(AddMM)

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

// custom
UMA_NO_VMAP(CustomTransforms)
UMA_NO_VMAP(Depends)

// compiled
UMA_NO_VMAP(Compiled)

}  // namespace uma
