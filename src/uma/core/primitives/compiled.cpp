// Names, shapes and transform rules of Compiled: the rules differentiate or
// vmap the replayed steps, so a compiled function transforms like the
// function it came from.
#include "uma/core/primitives/compiled.h"

#include <ostream>

#include "uma/core/transforms.h"
#include "uma/core/transforms/trace.h"

namespace uma {

UMA_COMPILED_MULTI_PRIMITIVES(UMA_PRIMITIVE_NAME)

const char* fused_op_name(FusedOp op) {
  static const char* const names[num_fused_ops] = {
      "Abs",   "Negative", "Square", "Sqrt",     "Rsqrt",  "Exp",     "Expm1",   "Log",     "Log1p", "Log2",
      "Log10", "Sin",      "Cos",    "Tanh",     "Sigmoid", "Erf",    "Floor",   "Ceil",    "AsType", "Add",
      "Subtract", "Multiply", "Divide", "Maximum", "Minimum", "Power", "Select"};
  return names[int(op)];
}

int fused_op_arity(FusedOp op) { return op == FusedOp::Select ? 3 : op >= FusedOp::Add ? 2 : 1; }

void Compiled::print(std::ostream& os) const {
  os << "Compiled(";
  for (size_t i = 0; i < steps_.size(); ++i) os << (i ? " " : "") << steps_[i].prim->name();
  os << ")";
}

bool Compiled::is_equivalent(const Primitive& o) const { return this == &o; }

// Every input and step is shaped like the outputs (the ops broadcast
// explicitly, so a scalar arrives as a broadcast view).
std::vector<Shape> Compiled::output_shapes(const std::vector<array>& inputs) {
  return std::vector<Shape>(output_slots_.size(), inputs[0].shape());
}

std::vector<array> Compiled::fallback(const std::vector<array>& inputs) const {
  std::vector<array> slots = inputs;
  for (auto& st : steps_) {
    std::vector<array> args;
    for (int a : st.args) args.push_back(slots[a]);
    Shape shape = args[0].shape();
    slots.push_back(array(std::move(shape), st.dtype, st.prim, std::move(args)));
  }
  std::vector<array> outs;
  for (int s : output_slots_) outs.push_back(slots[s]);
  return outs;
}

std::vector<array> Compiled::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                 const std::vector<int>& argnums, const std::vector<array>&) {
  auto [f, xs] = detail::restricted(replayed(), primals, argnums);
  return uma::vjp(f, xs, cotangents).second;
}

std::vector<array> Compiled::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                 const std::vector<int>& argnums) {
  auto [f, xs] = detail::restricted(replayed(), primals, argnums);
  return uma::jvp(f, xs, tangents).second;
}

// vmap of the replayed steps (unfused; every output batched along axis 0).
std::pair<std::vector<array>, std::vector<int>> Compiled::vmap(const std::vector<array>& inputs,
                                                               const std::vector<int>& axes) {
  std::vector<int> out_axes(output_slots_.size(), 0);
  return {uma::vmap(replayed(), axes, out_axes)(inputs), out_axes};
}

}  // namespace uma
