// Gradient rules not written yet, one line per primitive: UMA_NO_VJP(P) and
// UMA_NO_JVP(P) define P::vjp / P::jvp to throw not_implemented("[<name>] has
// no <transform> rule yet"). Writing a rule (with ops, in
// primitives/<family>.cpp or <family>_grad.cpp) takes its macro off the line.
// The vmap list is missing_vmap.cpp.
#include "uma/core/primitives/all.h"

namespace uma {

// shape
UMA_NO_VJP(Reshape) UMA_NO_JVP(Reshape)
UMA_NO_VJP(Transpose) UMA_NO_JVP(Transpose)
UMA_NO_VJP(Broadcast) UMA_NO_JVP(Broadcast)
UMA_NO_VJP(AsStrided) UMA_NO_JVP(AsStrided)
UMA_NO_VJP(Slice) UMA_NO_JVP(Slice)
UMA_NO_VJP(AsType) UMA_NO_JVP(AsType)
UMA_NO_VJP(View) UMA_NO_JVP(View)
UMA_NO_VJP(Copy) UMA_NO_JVP(Copy)
UMA_NO_VJP(Full) UMA_NO_JVP(Full)
UMA_NO_VJP(Arange) UMA_NO_JVP(Arange)

// reduction
UMA_NO_VJP(Reduce) UMA_NO_JVP(Reduce)
UMA_NO_VJP(ArgReduce) UMA_NO_JVP(ArgReduce)
UMA_NO_VJP(Scan) UMA_NO_JVP(Scan)
UMA_NO_VJP(Softmax) UMA_NO_JVP(Softmax)
UMA_NO_VJP(LogSumExp) UMA_NO_JVP(LogSumExp)

// linalg (rules in primitives/linalg.cpp)
UMA_NO_JVP(AddMM)

// sort
UMA_NO_VJP(Sort) UMA_NO_JVP(Sort)
UMA_NO_VJP(ArgSort) UMA_NO_JVP(ArgSort)
UMA_NO_VJP(Partition) UMA_NO_JVP(Partition)
UMA_NO_VJP(ArgPartition) UMA_NO_JVP(ArgPartition)

// random
UMA_NO_VJP(RandomBits) UMA_NO_JVP(RandomBits)

// quantized (QuantizedMatmul's and GatherQMM's vjp and jvp for x in primitives/quantized.cpp)
UMA_NO_VJP(Quantize) UMA_NO_JVP(Quantize)
UMA_NO_VJP(Dequantize) UMA_NO_JVP(Dequantize)

}  // namespace uma
