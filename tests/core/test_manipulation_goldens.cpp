// Manipulation and indexing ops against NumPy goldens made by
// tests/fixtures/manipulation/make_goldens.py (inputs and outputs stored).
#include <gtest/gtest.h>


#include "core/golden_util.h"
#include "core/util.h"
#include "uma/uma.h"

using namespace uma;

namespace {

test::Golden golden(const std::string& name) { return test::load_golden("manipulation", name); }

}  // namespace

TEST(ManipulationGoldens, Joining) {
  auto g = golden("concatenate_axis1");
  // The third input is used as a transposed, sliced (non-contiguous) view.
  array c = slice(transpose(g.in[2], {1, 2, 0}), {0, 0, 0}, {2, 2, 4});
  g.check(concatenate({g.in[0], g.in[1], c}, 1));
  g = golden("concatenate_flat");
  g.check(concatenate({g.in[0], g.in[1]}));
  g = golden("stack_axis_m1");
  g.check(stack({g.in[0], g.in[1]}, -1));
}

TEST(ManipulationGoldens, Pad) {
  auto g = golden("pad_constant");
  g.check(pad(g.in[0], {{1, 0}, {0, 2}, {3, 1}}, array(7.5)));
  g = golden("pad_edge");
  g.check(pad(g.in[0], {{2, 1}, {0, 0}, {1, 3}}, array(0), "edge"));
}

TEST(ManipulationGoldens, RepeatTileRoll) {
  auto g = golden("repeat_axis1");
  g.check(repeat(g.in[0], 3, 1));
  g = golden("repeat_flat");
  g.check(repeat(g.in[0], 2));
  g = golden("tile_2_1_3");
  g.check(tile(g.in[0], {2, 1, 3}));
  g = golden("tile_2");
  g.check(tile(g.in[0], {2}));
  g = golden("roll_axes");
  g.check(roll(g.in[0], Shape{2, -1}, {0, 2}));
  g = golden("roll_flat");
  g.check(roll(g.in[0], 7));
  g = golden("roll_transposed");
  g.check(roll(transpose(g.in[0], {2, 0, 1}), -3, 0));
}

TEST(ManipulationGoldens, Diagonals) {
  auto g = golden("diagonal_1_2_0");
  g.check(diagonal(g.in[0], 1, 2, 0));
  g = golden("diagonal_m1_0_1");
  g.check(diagonal(g.in[0], -1, 0, 1));
  g = golden("diag_vec_k2");
  g.check(diag(g.in[0], 2));
  g = golden("diag_vec_km1");
  g.check(diag(g.in[0], -1));
}

TEST(ManipulationGoldens, Meshgrid) {
  for (std::string ind : {"xy", "ij"}) {
    auto g0 = golden("meshgrid_" + ind + "_0");
    auto grids = meshgrid(g0.in, false, ind);
    ASSERT_EQ(grids.size(), 3u);
    for (int k = 0; k < 3; ++k) golden("meshgrid_" + ind + "_" + std::to_string(k)).check(grids[k]);
  }
}

TEST(IndexingGoldens, Take) {
  auto g = golden("take_axis1");
  g.check(take(g.in[0], g.in[1], 1));
  g = golden("take_flat");
  g.check(take(g.in[0], g.in[1]));
  g = golden("take_along_axis1");
  g.check(take_along_axis(g.in[0], g.in[1], 1));
  g = golden("take_along_axis_m1");
  g.check(take_along_axis(g.in[0], g.in[1], -1));
  g = golden("put_along_axis1");
  g.check(put_along_axis(g.in[0], g.in[1], g.in[2], 1));
}

TEST(IndexingGoldens, GatherScatter) {
  auto g = golden("gather_axes_0_2");
  g.check(gather(g.in[0], {g.in[1], g.in[2]}, {0, 2}, {1, 3, 2}));
  g = golden("scatter_add_dup");
  g.check(scatter_add(g.in[0], g.in[1], g.in[2], 0));
  g = golden("scatter_prod_dup");
  g.check(scatter_prod(g.in[0], g.in[1], g.in[2], 0));
  g = golden("scatter_max_dup");
  g.check(scatter_max(g.in[0], g.in[1], g.in[2], 0));
  g = golden("scatter_min_dup");
  g.check(scatter_min(g.in[0], g.in[1], g.in[2], 0));
  g = golden("scatter_distinct");
  g.check(scatter(g.in[0], g.in[1], g.in[2], 0));
  g = golden("scatter_add_2axes");
  g.check(scatter_add(g.in[0], {g.in[1], g.in[2]}, g.in[3], {0, 1}));
}
