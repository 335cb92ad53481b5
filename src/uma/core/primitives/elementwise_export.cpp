// Serialization of the elementwise primitives. They have no parameters but
// Equal's flag; what a reader checks is what the ops guarantee and the
// kernels assume: inputs shaped like the output, binary operands of one
// dtype, and the output dtype the op gives (the kernels write the input's
// element type, or bool for comparisons).
#include <cstring>

#include "uma/core/primitives/elementwise.h"
#include "uma/core/primitives/serialize.h"

namespace uma {

namespace {

bool is_comparison(const std::string& cls) {
  for (const char* c : {"Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual"}) {
    if (cls == c) return true;
  }
  return false;
}

void check_elementwise(const PrimitiveReader& r, int arity) {
  r.inputs(arity);
  r.outputs(1);
  const TypedShape& out = r.out(0);
  for (int i = 0; i < arity; ++i) r.check(r.in(i).shape == out.shape, "an input is not shaped like the output");
  const std::string& cls = r.cls();
  if (arity == 1) {
    Dtype in = r.in(0).dtype;
    bool to_real = cls == "Real" || cls == "Imag" || (cls == "Abs" && in == complex64);
    if (to_real) {
      r.check(in == complex64 && out.dtype == float32, "takes complex64 to float32");
    } else {
      r.check(out.dtype == in, "the output dtype is not the input's");
    }
  } else if (arity == 2) {
    r.check(r.in(0).dtype == r.in(1).dtype, "the operands' dtypes differ");
    r.check(out.dtype == (is_comparison(cls) ? bool_ : r.in(0).dtype), "the output dtype is not the op's");
  } else {
    r.check(r.in(0).dtype == bool_, "the condition is not bool");
    r.check(r.in(1).dtype == r.in(2).dtype && out.dtype == r.in(1).dtype, "the operands' dtypes differ");
  }
}

}  // namespace

#define UMA_SERIALIZE_ELEMENTWISE(P, ARITY)                                  \
  void P::serialize(PrimitiveWriter&) const {}                               \
  std::shared_ptr<Primitive> P::deserialize(Stream s, PrimitiveReader& r) {  \
    check_elementwise(r, ARITY);                                             \
    return std::make_shared<P>(s);                                           \
  }
#define UMA_UNARY(P) UMA_SERIALIZE_ELEMENTWISE(P, 1)
#define UMA_BINARY(P) UMA_SERIALIZE_ELEMENTWISE(P, 2)
#define UMA_TERNARY(P) UMA_SERIALIZE_ELEMENTWISE(P, 3)
UMA_UNARY_PRIMITIVES(UMA_UNARY)
UMA_BINARY_PRIMITIVES(UMA_BINARY)
UMA_TERNARY_PRIMITIVES(UMA_TERNARY)
#undef UMA_UNARY
#undef UMA_BINARY
#undef UMA_TERNARY
#undef UMA_SERIALIZE_ELEMENTWISE

void Equal::serialize(PrimitiveWriter& w) const { w.put(equal_nan_); }
std::shared_ptr<Primitive> Equal::deserialize(Stream s, PrimitiveReader& r) {
  bool equal_nan = r.get<bool>();
  check_elementwise(r, 2);
  return std::make_shared<Equal>(s, equal_nan);
}

}  // namespace uma
