// vmap rules not written yet, one line per primitive: UMA_NO_VMAP(P) defines
// P::vmap to throw not_implemented("[<name>] has no vmap rule yet"). Writing
// a rule (with ops, in primitives/<family>_vmap.cpp) takes its line off.
// The gradient list is missing_grad.cpp.
//
// Every primitive has a rule now (Arange's says it is never batched: it has
// no inputs). A new primitive lists its UMA_NO_VMAP line here until it has one.
#include "uma/core/primitives/all.h"

namespace uma {}  // namespace uma
