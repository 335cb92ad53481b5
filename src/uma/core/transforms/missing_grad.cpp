// Gradient rules not written yet, one line per primitive: UMA_NO_VJP(P) and
// UMA_NO_JVP(P) define P::vjp / P::jvp to throw not_implemented("[<name>] has
// no <transform> rule yet"). Writing a rule (with ops, in
// primitives/<family>.cpp or <family>_grad.cpp) takes its macro off the line.
// The vmap list is missing_vmap.cpp.
#include "uma/core/primitives/all.h"

namespace uma {

// shape (rules in primitives/shape_grad.cpp). View reinterprets bits: the
// map from its input's values to its output's is not differentiable (not even
// continuous), so it has no rule, as in MLX.
UMA_NO_VJP(View) UMA_NO_JVP(View)

// quantized (QuantizedMatmul's and GatherQMM's vjp and jvp for x, and
// Dequantize's, in primitives/quantized.cpp). Quantize has no rule: its
// codes are integers and its scales and biases are snapped by rounding
// (edge value to a code, zero onto a code), so a derivative would be zero
// or a choice of estimator (straight-through, ...); write that choice with
// custom_vjp where a model needs it.
UMA_NO_VJP(Quantize) UMA_NO_JVP(Quantize)

// LAPACK family (rules for Inverse, Cholesky, QRF, SVD's values and Eigh in
// primitives/linalg_lapack_grad.cpp). Eig has none, as in MLX: its values and
// vectors are complex, and the elementwise family has no complex rules yet.
// LUF has none: its pivots are integers chosen by comparisons, and L and U are
// differentiable only between pivot changes; differentiate through inv or
// solve instead (MLX's LUF has no rule either).
UMA_NO_VJP(Eig) UMA_NO_JVP(Eig)
UMA_NO_VJP(LUF) UMA_NO_JVP(LUF)

}  // namespace uma
