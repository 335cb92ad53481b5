// Compiled: a chain of elementwise primitives fused by compile() into one
// pass over the data. Each step is one of the original primitives; the CPU
// backend runs C++ generated for the steps (values stay in registers), or
// interprets them tile by tile (values stay in L1 between steps), and the
// transforms and other backends replay them as ops.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "uma/core/primitive.h"

namespace uma {

#define UMA_COMPILED_MULTI_PRIMITIVES(X) X(Compiled)

// What a fused step computes (the primitive of the same name).
enum class FusedOp : uint8_t {
  // unary
  Abs, Negative, Square, Sqrt, Rsqrt, Exp, Expm1, Log, Log1p, Log2, Log10, Sin, Cos, Tanh, Sigmoid, Erf, Floor,
  Ceil, AsType,
  // binary
  Add, Subtract, Multiply, Divide, Maximum, Minimum, Power,
  // ternary
  Select
};

// The name of the primitive a step computes ("Abs", ...), and its number of operands.
const char* fused_op_name(FusedOp op);
int fused_op_arity(FusedOp op);
inline constexpr int num_fused_ops = int(FusedOp::Select) + 1;

class Compiled : public Primitive {
 public:
  // Slots [0, num_inputs) are the inputs; slot num_inputs + i is step i's
  // result. Every step is shaped like the outputs.
  struct Step {
    FusedOp op;
    std::shared_ptr<Primitive> prim;
    std::vector<int> args;  // slots
    Dtype dtype;
  };
  Compiled(Stream s, int num_inputs, std::vector<Step> steps, std::vector<int> output_slots)
      : Primitive(s), num_inputs_(num_inputs), steps_(std::move(steps)), output_slots_(std::move(output_slots)) {}
  UMA_DECLARE_MULTI_PRIMITIVE()
  void print(std::ostream& os) const override;

  int num_inputs() const { return num_inputs_; }
  const std::vector<Step>& steps() const { return steps_; }
  const std::vector<int>& output_slots() const { return output_slots_; }
  // The same computation as ops (one node per step), and as a function.
  std::vector<array> fallback(const std::vector<array>& inputs) const;
  std::function<std::vector<array>(const std::vector<array>&)> replayed() const {
    return [this](const std::vector<array>& xs) { return fallback(xs); };
  }

 private:
  int num_inputs_;
  std::vector<Step> steps_;
  std::vector<int> output_slots_;
};

}  // namespace uma
