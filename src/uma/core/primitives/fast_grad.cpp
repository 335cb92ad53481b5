// Gradient rules of the fast primitives: each differentiates its fallback
// (the same computation composed of ops) with respect to the inputs asked
// for, so the rules stay exact as the fused kernels change.
#include "uma/core/primitives/fast.h"
#include "uma/core/transforms.h"
#include "uma/core/transforms/trace.h"

namespace uma::fast {

namespace {

std::vector<array> fallback_vjp(const Custom& p, const std::vector<array>& primals,
                                const std::vector<array>& cotangents, const std::vector<int>& argnums) {
  if (!p.fallback()) throw not_implemented(std::string("[") + p.name() + "] has no fallback to differentiate");
  auto [f, xs] = detail::restricted(p.fallback(), primals, argnums);
  return uma::vjp(f, xs, cotangents).second;
}

std::vector<array> fallback_jvp(const Custom& p, const std::vector<array>& primals,
                                const std::vector<array>& tangents, const std::vector<int>& argnums) {
  if (!p.fallback()) throw not_implemented(std::string("[") + p.name() + "] has no fallback to differentiate");
  auto [f, xs] = detail::restricted(p.fallback(), primals, argnums);
  return uma::jvp(f, xs, tangents).second;
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
