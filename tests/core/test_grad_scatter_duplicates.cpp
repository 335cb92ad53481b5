// Gradients of the assigning scatters (scatter, put_along_axis) when
// several updates write one position, through the transforms (grad_util.h):
// vjp against central differences and jvp against vjp, and by hand.
#include <gtest/gtest.h>

#include "core/grad_util.h"
#include "uma/uma.h"

using namespace uma;
using test::randn;
using test::UnaryFn;
using GradScatterDuplicates = test::SeededGradTest;

// With duplicate indices the assigning scatters keep one write, the last
// in order (put_along_axis: "the last write wins", core/ops/indexing.h;
// scatter: in index order on the CPU), and their jvp scatters the tangents
// the same way; their vjp must give the overwritten updates zero, as the
// overwritten positions of the source get (the rule finds the winning
// update by scattering update ids). MLX's Scatter::vjp gives every
// duplicate the cotangent, which is not the adjoint of its jvp; this test
// caught the same in uma's first rule. Distinct indices: GradCoverage.
TEST_F(GradScatterDuplicates, OverwrittenUpdatesGetNoGradient) {
  array base = randn({3, 4}), x = randn({3, 4});
  // Row 1 writes column 2 twice, row 2 column 3 twice.
  array along = array({0, 3, 1, 2, 2, 2, 1, 0, 3, 3, 0, 1}, {3, 4});
  {
    SCOPED_TRACE("put_along_axis, values");
    test::check_grad([&](const array& v) { return put_along_axis(base, along, v, 1); }, x);
  }
  {
    // Rows 0 and 2 of the updates both write row 1.
    SCOPED_TRACE("scatter, updates");
    test::check_grad([&](const array& u) { return scatter(base, {array({1, 0, 1})}, reshape(u, {3, 1, 4}), {0}); }, x);
  }
  // By hand: put_along_axis(zeros, along, v) with cotangent 1 everywhere;
  // in row 1 only the last of the two writes to column 2 (index 1 of the
  // row's values) lands, as the forward shows, so index 0 must get 0.
  auto fwd = put_along_axis(zeros({3, 4}, float64), along, x, 1).to_vector<double>();
  ASSERT_EQ(fwd[4 + 2], x.to_vector<double>()[5]) << "the last write to row 1, column 2 wins";
  auto g = uma::vjp(UnaryFn([&](const array& v) { return put_along_axis(zeros({3, 4}, float64), along, v, 1); }), x,
                    ones({3, 4}, float64))
               .second.to_vector<double>();
  EXPECT_EQ(g[4], 0.0) << "row 1, the first write to column 2 is overwritten";
  EXPECT_EQ(g[5], 1.0) << "row 1, the last write to column 2 lands";
}
