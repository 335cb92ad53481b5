// The elementwise tests that reduce to one bool: allclose and array_equal.
// They use `all` from the reduction family (ops/reduction.cpp).
#include "uma/core/ops/elementwise.h"
#include "uma/core/ops/elementwise_impl.h"
#include "uma/core/ops/reduction.h"
#include "uma/core/primitives/elementwise.h"

namespace uma {

array allclose(const array& a, const array& b, double rtol, double atol, bool equal_nan, StreamOrDevice s) {
  return all(isclose(a, b, rtol, atol, equal_nan, s), false, s);
}

// Different shapes are simply not equal (no broadcasting); dtypes may differ.
array array_equal(const array& a, const array& b, bool equal_nan, StreamOrDevice s) {
  if (a.shape() != b.shape()) return array(false);
  Dtype t = promote_types(a.dtype(), b.dtype());
  equal_nan = equal_nan && is_inexact(t);
  array eq(a.shape(), bool_, std::make_shared<Equal>(to_stream(s), equal_nan), {astype(a, t, s), astype(b, t, s)});
  return all(eq, false, s);
}

}  // namespace uma
