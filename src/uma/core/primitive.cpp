#include "uma/core/primitive.h"

namespace uma {

void Primitive::eval_gpu(const std::vector<array>&, std::vector<array>&) {
  throw not_implemented(std::string("[") + name() + "] has no GPU kernel in this build");
}

void UnaryPrimitive::eval_gpu(const std::vector<array>&, array&) {
  throw not_implemented(std::string("[") + name() + "] has no GPU kernel in this build");
}

std::vector<array> Primitive::vjp(const std::vector<array>&, const std::vector<array>&, const std::vector<int>&,
                                  const std::vector<array>&) {
  throw not_implemented(std::string("[") + name() + "] has no vjp rule yet");
}

std::vector<array> Primitive::jvp(const std::vector<array>&, const std::vector<array>&, const std::vector<int>&) {
  throw not_implemented(std::string("[") + name() + "] has no jvp rule yet");
}

std::pair<std::vector<array>, std::vector<int>> Primitive::vmap(const std::vector<array>&,
                                                                const std::vector<int>&) {
  throw not_implemented(std::string("[") + name() + "] has no vmap rule yet");
}

std::vector<Shape> Primitive::output_shapes(const std::vector<array>&) {
  throw not_implemented(std::string("[") + name() + "] cannot infer its output shapes");
}

}  // namespace uma
