#include "uma/core/primitive.h"

namespace uma::detail {

void throw_no_rule(const Primitive& p, const char* transform) {
  throw not_implemented(std::string("[") + p.name() + "] has no " + transform + " rule yet");
}

void throw_no_output_shapes(const Primitive& p) {
  throw not_implemented(std::string("[") + p.name() + "] cannot infer its output shapes");
}

}  // namespace uma::detail
