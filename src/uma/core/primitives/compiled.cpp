// Names, shapes and transform rules of Compiled: the rules differentiate or
// vmap the replayed steps, so a compiled function transforms like the
// function it came from.
#include "uma/core/primitives/compiled.h"

#include <ostream>

#include "uma/core/transforms.h"

namespace uma {

UMA_COMPILED_MULTI_PRIMITIVES(UMA_PRIMITIVE_NAME)

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
  std::vector<array> picked;
  for (int i : argnums) picked.push_back(primals[i]);
  auto f = [this, primals, argnums](const std::vector<array>& xs) {
    std::vector<array> all = primals;
    for (size_t k = 0; k < argnums.size(); ++k) all[argnums[k]] = xs[k];
    return fallback(all);
  };
  return uma::vjp(f, picked, cotangents).second;
}

std::vector<array> Compiled::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                 const std::vector<int>& argnums) {
  std::vector<array> picked;
  for (int i : argnums) picked.push_back(primals[i]);
  auto f = [this, primals, argnums](const std::vector<array>& xs) {
    std::vector<array> all = primals;
    for (size_t k = 0; k < argnums.size(); ++k) all[argnums[k]] = xs[k];
    return fallback(all);
  };
  return uma::jvp(f, picked, tangents).second;
}

// vmap of the replayed steps (unfused; every output batched along axis 0).
std::pair<std::vector<array>, std::vector<int>> Compiled::vmap(const std::vector<array>& inputs,
                                                               const std::vector<int>& axes) {
  std::vector<int> out_axes(output_slots_.size(), 0);
  ArrayFn f = [this](const std::vector<array>& xs) { return fallback(xs); };
  return {uma::vmap(f, axes, out_axes)(inputs), out_axes};
}

}  // namespace uma
