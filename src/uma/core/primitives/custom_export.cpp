// Serialization of the transforms' own primitives. Depends has one
// parameter. CustomTransforms holds C++ closures (the custom vjp, jvp and
// vmap rules) that no file can carry: export_function exports the function
// it wraps instead (transforms/export.cpp), and the class itself refuses.
#include "uma/core/primitives/custom.h"
#include "uma/core/primitives/serialize.h"

namespace uma {

void CustomTransforms::serialize(PrimitiveWriter&) const {
  detail::throw_not_serializable(*this, "its custom rules are C++ functions");
}
std::shared_ptr<Primitive> CustomTransforms::deserialize(Stream, PrimitiveReader& r) {
  r.fail("is never written to a file (its custom rules are C++ functions)");
}

void Depends::serialize(PrimitiveWriter& w) const { w.put(num_outputs_); }
std::shared_ptr<Primitive> Depends::deserialize(Stream s, PrimitiveReader& r) {
  auto n = r.get<int>();
  r.check(n >= 1 && size_t(n) <= r.node().inputs.size(), "passes through more arrays than it has inputs");
  r.outputs(n);
  for (int i = 0; i < n; ++i) {
    r.check(r.out(i).shape == r.in(i).shape && r.out(i).dtype == r.in(i).dtype, "an output is not its input");
  }
  return std::make_shared<Depends>(s, n);
}

}  // namespace uma
