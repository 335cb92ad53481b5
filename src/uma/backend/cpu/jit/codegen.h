// The C++ source of a fused elementwise kernel: compile()'s Compiled steps as
// one loop that keeps every intermediate in vector registers. The source is
// written against the embedded prelude (simd/jit_prelude.h) and computes
// what the interpreter computes, step by step, to the bit: the same vector
// math for exp/log/tanh/sigmoid and the arithmetic, the same libm calls for
// the std:: steps, and float16/bfloat16 steps rounded to their dtype.
#pragma once

#include <string>
#include <vector>

#include "uma/core/dtype.h"
#include "uma/core/primitives/compiled.h"

namespace uma::cpu::jit {

// How the kernel reads an input: row-major elements, or one value broadcast.
struct InputKind {
  Dtype dtype;
  bool scalar;
  bool operator==(const InputKind&) const = default;
};

// The definition of
//   extern "C" void UMA_KERNEL(const void* const* in, void* const* out,
//                              int64_t begin, int64_t end)
// which computes elements [begin, end) of every output. UMA_KERNEL is a
// macro the caller defines (the name depends on this text); inputs are
// float32, float16, bfloat16 or bool, outputs float32, float16 or bfloat16.
// For a vector-aligned `begin` and float32 outputs aligned like their
// elements' index, calls of 1M elements or more stream the float32 outputs
// past the cache, as the table kernels do.
std::string kernel_body(const Compiled& c, const std::vector<InputKind>& inputs, const std::vector<Dtype>& outputs);

// A short string that determines kernel_body's text (the steps' ops,
// arguments and dtypes, the input kinds, the output slots and dtypes): what
// a process looks its kernels up by, cheaper to make than the text.
std::string kernel_key(const Compiled& c, const std::vector<InputKind>& inputs, const std::vector<Dtype>& outputs);

}  // namespace uma::cpu::jit
