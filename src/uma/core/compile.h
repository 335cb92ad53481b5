// compile, as MLX's (mlx/compile.h): compile(fun) returns a function that
// traces fun once per input signature (dtypes and shapes; dtypes and ranks
// only when shapeless), simplifies the traced graph (constants folded,
// common subexpressions merged) and fuses chains of elementwise primitives
// into single passes over the data (the Compiled primitive). Later calls
// with the same signature replay the simplified graph without running fun.
//
// On the CPU the fused chains run as generated C++ built by the system
// compiler and cached on disk (UMA_COMPILE_JIT, UMA_CXX, UMA_CACHE_DIR: see
// backend/cpu/jit/cache.h and the README), else in an interpreter.
//
// fun must be a function of its inputs: arrays it captures are constants of
// the trace (their values at the first call), and Python-style side effects
// run only while tracing. Compiled functions can be differentiated.
//
// With `shapeless`, one trace serves inputs of any shape with the traced
// ranks and dtypes (each node's shapes inferred from its inputs). A trace
// that baked a shape in (a captured array broadcast to the inputs' shape, a
// reshape to fixed dimensions) cannot take other shapes: each new exact
// signature is checked once, and one the trace cannot take is traced on its
// own, as without `shapeless`.
#pragma once

#include "uma/core/transforms.h"

namespace uma {

ArrayFn compile(ArrayFn fun, bool shapeless = false);

// Turn compilation off (compile(fun) then returns calls of fun itself) or
// back on; UMA_DISABLE_COMPILE=1 in the environment starts it off.
void disable_compile();
void enable_compile();
bool compile_enabled();

}  // namespace uma
