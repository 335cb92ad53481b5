// Names, equivalence and shapes of the elementwise primitives: every output
// has the (already broadcast) shape of the first input.
#include "uma/core/primitives/elementwise.h"

namespace uma {

#define UMA_STATELESS_ELEMENTWISE(NAME)                                                      \
  UMA_PRIMITIVE_NAME(NAME)                                                                   \
  bool NAME::is_equivalent(const Primitive& o) const { return same<NAME>(o); }               \
  UMA_OUTPUT_SHAPE_OF_INPUT(NAME)
UMA_UNARY_PRIMITIVES(UMA_STATELESS_ELEMENTWISE)
UMA_BINARY_PRIMITIVES(UMA_STATELESS_ELEMENTWISE)
UMA_TERNARY_PRIMITIVES(UMA_STATELESS_ELEMENTWISE)
#undef UMA_STATELESS_ELEMENTWISE

const char* Equal::name() const { return equal_nan_ ? "NaNEqual" : "Equal"; }

bool Equal::is_equivalent(const Primitive& o) const {
  return same<Equal>(o, [&](const Equal& p) { return p.equal_nan_ == equal_nan_; });
}

UMA_OUTPUT_SHAPE_OF_INPUT(Equal)

}  // namespace uma
