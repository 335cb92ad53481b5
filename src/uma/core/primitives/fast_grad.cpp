// Gradient rules of the fast primitives: each differentiates its fallback
// (the same computation composed of ops) with respect to the inputs asked
// for, so the rules stay exact as the fused kernels change.
#include "uma/core/primitives/fast.h"
#include "uma/core/transforms.h"

namespace uma::fast {

namespace {

// The fallback as a function of inputs[argnums] alone; the other inputs
// (offsets, masks not asked about) are constants of the trace.
ArrayFn restricted(const Custom::Fallback& fallback, const std::vector<array>& inputs,
                   const std::vector<int>& argnums) {
  return [fallback, inputs, argnums](const std::vector<array>& xs) {
    std::vector<array> all = inputs;
    for (size_t k = 0; k < argnums.size(); ++k) all[argnums[k]] = xs[k];
    return fallback(all);
  };
}

std::vector<array> picked(const std::vector<array>& inputs, const std::vector<int>& argnums) {
  std::vector<array> out;
  for (int i : argnums) out.push_back(inputs[i]);
  return out;
}

std::vector<array> fallback_vjp(const Custom& p, const std::vector<array>& primals,
                                const std::vector<array>& cotangents, const std::vector<int>& argnums) {
  if (!p.fallback()) throw not_implemented(std::string("[") + p.name() + "] has no fallback to differentiate");
  return uma::vjp(restricted(p.fallback(), primals, argnums), picked(primals, argnums), cotangents).second;
}

std::vector<array> fallback_jvp(const Custom& p, const std::vector<array>& primals,
                                const std::vector<array>& tangents, const std::vector<int>& argnums) {
  if (!p.fallback()) throw not_implemented(std::string("[") + p.name() + "] has no fallback to differentiate");
  return uma::jvp(restricted(p.fallback(), primals, argnums), picked(primals, argnums), tangents).second;
}

}  // namespace

#define UMA_FAST_GRAD(P)                                                                                          \
  std::vector<array> P::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,              \
                            const std::vector<int>& argnums, const std::vector<array>&) {                         \
    return fallback_vjp(*this, primals, cotangents, argnums);                                                     \
  }                                                                                                               \
  std::vector<array> P::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,                \
                            const std::vector<int>& argnums) {                                                    \
    return fallback_jvp(*this, primals, tangents, argnums);                                                       \
  }
UMA_FAST_PRIMITIVES(UMA_FAST_GRAD)
#undef UMA_FAST_GRAD

}  // namespace uma::fast
