// The indexing and manipulation kernels (indexing.cu, manipulation.cu)
// against the CPU backend: take/gather over several dtypes and index dtypes
// with negative and out-of-range indices, multi-axis gathers, scatters in
// every reduce mode with duplicate indices, along-axis forms, concatenate,
// pad, slice updates (including the donated KV-cache loop), dynamic slices,
// diagonals; strided views made on the GPU and empty arrays.
#include <memory>

#include "cuda/cuda_util.h"
#include "uma/core/primitives/indexing.h"

namespace uma::test {
namespace {

// Integer indices in [lo, hi] (negatives count from the end; values past the
// axis are clamped by reads and dropped by writes), made on the host.
array random_indices(const Shape& shape, int lo, int hi, uint32_t seed, Dtype t = int32) {
  size_t n = 1;
  for (auto d : shape) n *= size_t(d);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> u(lo, hi);
  std::vector<int32_t> v(n);
  for (auto& x : v) x = u(rng);
  return astype(array(v, shape), t);
}

std::vector<Dtype> gather_dtypes() {
  return {bool_, uint8, int16, int32, uint64, float16, bfloat16, float32, float64};
}

TEST(CudaGather, TakeRowsOfATable) {
  NoFallback strict;
  for (Dtype t : gather_dtypes()) {
    for (int dim : {64, 7, 1}) {  // vector widths 16 bytes down to one element
      array table = random_array({300, dim}, t, 1);
      array idx = random_indices({3, 17}, -300, 299, 2);
      expect_same(take(table, idx, 0, gpu()), take(table, idx, 0, cpu()), 0, 0, dtype_name(t));
    }
  }
  // Index dtypes, and indices out of range (clamped).
  array table = random_array({50, 33}, float32, 3);
  for (Dtype it : {int8, int16, int64, uint8, uint32, uint64}) {
    bool is_unsigned_t = it == uint8 || it == uint32 || it == uint64;
    array idx = random_indices({40}, is_unsigned_t ? 0 : -70, is_unsigned_t ? 120 : 70, 4, it);
    expect_same(take(table, idx, 0, gpu()), take(table, idx, 0, cpu()), 0, 0, dtype_name(it));
  }
  array big = random_indices({20}, -1000, 1000, 5);
  expect_same(take(table, big, 0, gpu()), take(table, big, 0, cpu()), 0, 0);
  expect_same(take(table, big, 1, gpu()), take(table, big, 1, cpu()), 0, 0);  // strided windows
  expect_same(take(table, big, gpu()), take(table, big, cpu()), 0, 0);        // flattened
  expect_same(take(table, -3, 0, gpu()), take(table, -3, 0, cpu()), 0, 0);
}

TEST(CudaGather, ViewsAndEmpty) {
  NoFallback strict;
  array table = random_array({40, 24}, bfloat16, 6);
  array tg =
      transpose(astype(table, bfloat16, gpu()), {1, 0}, gpu());  // (24, 40) view on the device
  array idx = random_indices({5, 6}, -24, 23, 7);
  array idx_t = transpose(astype(idx, int32, gpu()), {1, 0}, gpu());
  expect_same(take(tg, idx_t, 0, gpu()),
              take(transpose(table, {1, 0}, cpu()), transpose(idx, {1, 0}, cpu()), 0, cpu()), 0, 0);
  array sl = slice(astype(table, bfloat16, gpu()), {1, 2}, {40, 24}, {3, 2}, gpu());
  expect_same(take(sl, idx, 1, gpu()),
              take(slice(table, {1, 2}, {40, 24}, {3, 2}, cpu()), idx, 1, cpu()), 0, 0);
  array none = astype(array(std::vector<int32_t>{}, {0}), int32);
  expect_same(take(table, none, 0, gpu()), take(table, none, 0, cpu()));
  array empty = random_array({0, 5}, float32, 8);
  expect_same(take(empty, none, 0, gpu()), take(empty, none, 0, cpu()));
}

TEST(CudaGather, MultiAxis) {
  NoFallback strict;
  for (Dtype t : {float32, int64, float16}) {
    array a = random_array({5, 6, 7}, t, 9);
    array i0 = random_indices({4, 1}, -5, 6, 10);
    array i2 = random_indices({1, 3}, -9, 9, 11);
    expect_same(gather(a, {i0, i2}, {0, 2}, {1, 6, 2}, gpu()),
                gather(a, {i0, i2}, {0, 2}, {1, 6, 2}, cpu()), 0, 0);
    expect_same(gather(a, {i2, i0}, {1, 0}, {2, 3, 7}, gpu()),
                gather(a, {i2, i0}, {1, 0}, {2, 3, 7}, cpu()), 0, 0);
    expect_same(gather(a, {}, {}, {2, 3, 4}, gpu()), gather(a, {}, {}, {2, 3, 4}, cpu()), 0, 0);
    array i1 = random_indices({4, 3}, -6, 5, 12);
    expect_same(gather(a, {i0, i1, i2}, {0, 1, 2}, {1, 1, 1}, gpu()),
                gather(a, {i0, i1, i2}, {0, 1, 2}, {1, 1, 1}, cpu()), 0, 0);
  }
}

// The modes the public ops do not reach: reads that drop (zeros), writes
// that clamp.
TEST(CudaGather, DropAndClampModes) {
  NoFallback strict;
  array a = random_array({9, 5}, float32, 13);
  array idx = random_indices({11}, -15, 15, 14);
  auto gather_drop = [&](Device d) {
    return array(
        {11, 1, 5}, float32,
        std::make_shared<Gather>(default_stream(d), std::vector<int>{0}, Shape{1, 5}, false),
        {a, idx});
  };
  expect_same(gather_drop(gpu()), gather_drop(cpu()), 0, 0);
  array upd = random_array({11, 1, 5}, float32, 15);
  auto scatter_clamp = [&](Device d) {
    return array(
        {9, 5}, float32,
        std::make_shared<Scatter>(default_stream(d), ScatterReduce::max, std::vector<int>{0}, true),
        {a, idx, upd});
  };
  expect_same(scatter_clamp(gpu()), scatter_clamp(cpu()), 0, 0);
}

TEST(CudaScatter, EveryReduceWithDuplicates) {
  NoFallback strict;
  using Op = array (*)(const array&, const array&, const array&, int, StreamOrDevice);
  struct Case {
    const char* name;
    Op op;
  };
  Case cases[] = {
      {"add", scatter_add}, {"prod", scatter_prod}, {"max", scatter_max}, {"min", scatter_min}};
  array idx =
      random_indices({30}, -12, 13, 16);  // 30 updates into 10 rows: duplicates, some dropped
  for (Dtype t : {bool_, uint8, int16, int32, int64, uint64, float16, bfloat16, float32, float64}) {
    for (const auto& c : cases) {
      double lo = std::string(c.name) == "prod" ? 0.5 : -4,
             hi = std::string(c.name) == "prod" ? 1.5 : 4;
      if (!is_floating_point(t) && std::string(c.name) == "prod") lo = -2, hi = 2;
      array a = random_array({10, 8}, t, 17, lo, hi);
      array upd = random_array({30, 1, 8}, t, 18, lo, hi);
      // Sums and products of floats depend on the order of duplicates.
      double tol = is_floating_point(t) ? (t == float16 || t == bfloat16 ? 0.05 : 1e-5) : 0;
      expect_same(c.op(a, idx, upd, 0, gpu()), c.op(a, idx, upd, 0, cpu()), tol, tol,
                  std::string(c.name) + " " + dtype_name(t));
    }
  }
  // NaN propagates through max / min.
  std::vector<float> av(40, 1.f);
  av[3] = std::nanf("");
  array a(av, {40});
  array uv = random_array({12}, float32, 19);
  std::vector<float> u = uv.to_vector<float>();
  u[5] = std::nanf("");
  array upd(u, {12, 1});
  array id = random_indices({12}, 0, 6, 20);
  expect_same(scatter_max(a, id, upd, 0, gpu()), scatter_max(a, id, upd, 0, cpu()), 0, 0);
  expect_same(scatter_min(a, id, upd, 0, gpu()), scatter_min(a, id, upd, 0, cpu()), 0, 0);
}

TEST(CudaScatter, AssignAndWindows) {
  NoFallback strict;
  // Duplicates carry equal updates, so any write order gives the CPU's result.
  std::vector<int32_t> iv = {3, -1, 0, 3, 9, 7, -7, 42, 0};
  array idx(iv, {9});
  std::vector<float> uv;
  for (int32_t i : iv) {
    int w = i < 0 ? i + 10 : i;
    for (int j = 0; j < 6; ++j) uv.push_back(float(w * 10 + j));
  }
  array upd(uv, {9, 1, 6});
  for (Dtype t : {float32, bfloat16, int8, uint64, bool_}) {
    array a = random_array({10, 6}, t, 21);
    array u = astype(upd, t);
    expect_same(scatter(a, idx, u, 0, gpu()), scatter(a, idx, u, 0, cpu()), 0, 0, dtype_name(t));
  }
  // Two index arrays, windows smaller than the array, non-contiguous updates.
  array a = random_array({6, 7, 8}, float32, 22);
  array i0 = array(std::vector<int32_t>{0, 2, 4}, {3});
  array i2 = array(std::vector<int32_t>{-3, 1, 4}, {3});
  array u = transpose(random_array({4, 3}, float32, 23), {1, 0}, cpu());  // (3, 4), non-contiguous
  array ug = transpose(astype(random_array({4, 3}, float32, 23), float32, gpu()), {1, 0}, gpu());
  expect_same(scatter_add(a, {i0, i2}, reshape(ug, {3, 1, 4, 1}, gpu()), {0, 2}, gpu()),
              scatter_add(a, {i0, i2}, reshape(u, {3, 1, 4, 1}, cpu()), {0, 2}, cpu()), 1e-6, 1e-6);
  // On data already on the device (the output may reuse its buffer).
  array ad = astype(a, float32, gpu());
  eval(ad);
  array r = scatter_add(ad, i0, random_array({3, 1, 7, 8}, float32, 24), 0, gpu());
  expect_same(r, scatter_add(a, i0, random_array({3, 1, 7, 8}, float32, 24), 0, cpu()), 1e-6, 1e-6);
  expect_same(ad, a, 0, 0);  // the input is unchanged
  // Empty updates.
  array e = array(std::vector<int32_t>{}, {0});
  expect_same(scatter(a, e, random_array({0, 1, 7, 8}, float32, 25), 0, gpu()),
              scatter(a, e, random_array({0, 1, 7, 8}, float32, 25), 0, cpu()), 0, 0);
}

TEST(CudaAlongAxis, TakePutAndAdd) {
  NoFallback strict;
  for (Dtype t : {float32, bfloat16, int32, uint8, float64}) {
    array a = random_array({6, 50}, t, 26);
    array idx = random_indices({6, 10}, -60, 60, 27);
    expect_same(take_along_axis(a, idx, 1, gpu()), take_along_axis(a, idx, 1, cpu()), 0, 0,
                dtype_name(t));
    array idx0 = random_indices({9, 50}, -8, 8, 28);
    expect_same(take_along_axis(a, idx0, 0, gpu()), take_along_axis(a, idx0, 0, cpu()), 0, 0);
    array b = random_indices({1, 10}, -50, 49, 29);  // broadcast over the rows
    expect_same(take_along_axis(a, b, 1, gpu()), take_along_axis(a, b, 1, cpu()), 0, 0);
    // Duplicates apply in order on both backends (one thread per line).
    array v = random_array({6, 10}, t, 30);
    expect_same(put_along_axis(a, idx, v, 1, gpu()), put_along_axis(a, idx, v, 1, cpu()), 0, 0,
                dtype_name(t));
    expect_same(scatter_add_axis(a, idx, v, 1, gpu()), scatter_add_axis(a, idx, v, 1, cpu()), 0, 0,
                dtype_name(t));
    array v0 = random_array({9, 50}, t, 31);
    expect_same(put_along_axis(a, idx0, v0, 0, gpu()), put_along_axis(a, idx0, v0, 0, cpu()), 0, 0);
  }
  // Few long lines: the atomic path (float sums in another order).
  array a = random_array({2, 1000}, float32, 32);
  array idx = random_indices({2, 700}, -1000, 999, 33);
  array v = random_array({2, 700}, float32, 34);
  expect_same(scatter_add_axis(a, idx, v, 1, gpu()), scatter_add_axis(a, idx, v, 1, cpu()), 1e-5,
              1e-5);
  array ai = random_array({2, 1000}, int16, 35);
  array vi = random_array({2, 700}, int16, 36);
  expect_same(scatter_add_axis(ai, idx, vi, 1, gpu()), scatter_add_axis(ai, idx, vi, 1, cpu()), 0,
              0);
  // A non-contiguous source made on the device.
  array at = transpose(astype(random_array({50, 6}, float32, 37), float32, gpu()), {1, 0}, gpu());
  array atc = transpose(random_array({50, 6}, float32, 37), {1, 0}, cpu());
  array ix = random_indices({6, 10}, -50, 49, 38);
  expect_same(take_along_axis(at, ix, 1, gpu()), take_along_axis(atc, ix, 1, cpu()), 0, 0);
  expect_same(put_along_axis(at, ix, array(2.5f), 1, gpu()),
              put_along_axis(atc, ix, array(2.5f), 1, cpu()), 0, 0);
}

TEST(CudaManipulation, ConcatenateAndPad) {
  NoFallback strict;
  for (Dtype t : {bool_, int8, int32, uint64, float16, bfloat16, float32, float64}) {
    array x = random_array({3, 5, 4}, t, 40), y = random_array({3, 2, 4}, t, 41),
          z = random_array({3, 0, 4}, t, 42);
    expect_same(concatenate({x, y, z}, 1, gpu()), concatenate({x, y, z}, 1, cpu()), 0, 0,
                dtype_name(t));
    expect_same(concatenate({x, x}, 2, gpu()), concatenate({x, x}, 2, cpu()), 0, 0);
    expect_same(pad(x, {{1, 2}, {0, 3}, {2, 0}}, array(1.5f), "constant", gpu()),
                pad(x, {{1, 2}, {0, 3}, {2, 0}}, array(1.5f), "constant", cpu()), 0, 0,
                dtype_name(t));
  }
  // Mixed dtypes (promoted), views made on the device, many inputs.
  array a = random_array({4, 6}, int32, 43), b = random_array({4, 3}, float16, 44);
  expect_same(concatenate({a, b}, 1, gpu()), concatenate({a, b}, 1, cpu()), 0, 0);
  array ag = transpose(astype(random_array({6, 4}, float32, 45), float32, gpu()), {1, 0}, gpu());
  array ac = transpose(random_array({6, 4}, float32, 45), {1, 0}, cpu());
  expect_same(concatenate({ag, b}, 1, gpu()), concatenate({ac, b}, 1, cpu()), 0, 0);
  std::vector<array> many;
  for (int i = 0; i < 20; ++i) many.push_back(random_array({2, i % 3}, float32, 46 + i));
  expect_same(concatenate(many, 1, gpu()), concatenate(many, 1, cpu()), 0, 0);
  expect_same(concatenate({random_array({0, 3}, float32, 1)}, 0, gpu()),
              concatenate({random_array({0, 3}, float32, 1)}, 0, cpu()));
  expect_same(pad(ag, {{0, 0}, {1, 1}}, array(0), "constant", gpu()),
              pad(ac, {{0, 0}, {1, 1}}, array(0), "constant", cpu()), 0, 0);
}

TEST(CudaManipulation, SliceUpdates) {
  NoFallback strict;
  for (Dtype t : {uint8, int32, bfloat16, float32, float64}) {
    array src = random_array({6, 8, 5}, t, 70);
    array upd = random_array({2, 3, 5}, t, 71);
    expect_same(slice_update(src, upd, {1, 2, 0}, {5, 5, 5}, {2, 1, 1}, gpu()),
                slice_update(src, upd, {1, 2, 0}, {5, 5, 5}, {2, 1, 1}, cpu()), 0, 0,
                dtype_name(t));
    array row = random_array({1, 1, 5}, t, 72);  // broadcast
    expect_same(slice_update(src, row, {0, 0, 0}, {6, 8, 5}, gpu()),
                slice_update(src, row, {0, 0, 0}, {6, 8, 5}, cpu()), 0, 0);
  }
}

// The decode loop of a KV cache: each step writes one position of a cache
// that nobody else holds (the GPU reuses its buffer); a copy held aside
// must not change.
TEST(CudaManipulation, KvCacheLoop) {
  NoFallback strict;
  const int B = 2, T = 9, D = 16;
  array cg = zeros({B, T, D}, bfloat16, gpu());
  array cc = zeros({B, T, D}, bfloat16, cpu());
  eval(cg);
  array kept = cg;
  for (int t = 0; t < T; ++t) {
    array row = random_array({B, 1, D}, bfloat16, 80 + t);
    cg = slice_update(cg, row, {0, t, 0}, {B, t + 1, D}, gpu());
    cc = slice_update(cc, row, {0, t, 0}, {B, t + 1, D}, cpu());
    eval(cg);
    if (t == 3) kept = cg;
  }
  expect_same(cg, cc, 0, 0);
  array ref = zeros({B, T, D}, bfloat16, cpu());
  for (int t = 0; t < 4; ++t) {
    ref = slice_update(ref, random_array({B, 1, D}, bfloat16, 80 + t), {0, t, 0}, {B, t + 1, D},
                       cpu());
  }
  expect_same(kept, ref, 0, 0);
  // Growing by concatenation.
  array kg = random_array({B, 3, D}, float16, 90), kc = kg;
  for (int t = 0; t < 4; ++t) {
    array row = random_array({B, 1, D}, float16, 91 + t);
    kg = concatenate({kg, row}, 1, gpu());
    kc = concatenate({kc, row}, 1, cpu());
  }
  expect_same(kg, kc, 0, 0);
}

TEST(CudaManipulation, DynamicSlices) {
  NoFallback strict;
  array a = random_array({7, 9, 4}, float32, 100);
  for (auto sv : std::vector<std::vector<int32_t>>{{2, 3}, {-2, -1}, {100, -100}, {0, 0}}) {
    array start(sv, {2});
    array start_dev = astype(start, int64, gpu());  // a start computed on the device
    for (const array& st : {start, start_dev}) {
      expect_same(dynamic_slice(a, st, {0, 1}, {3, 4, 4}, gpu()),
                  dynamic_slice(a, start, {0, 1}, {3, 4, 4}, cpu()), 0, 0);
      array upd = random_array({3, 4, 4}, float32, 101);
      expect_same(dynamic_slice_update(a, upd, st, {0, 1}, gpu()),
                  dynamic_slice_update(a, upd, start, {0, 1}, cpu()), 0, 0);
    }
  }
  array s1(std::vector<int16_t>{-3}, {1});
  array ag = transpose(astype(a, float16, gpu()), {2, 1, 0}, gpu());  // (4, 9, 7) view
  array ac = transpose(astype(a, float16, cpu()), {2, 1, 0}, cpu());
  expect_same(dynamic_slice(ag, s1, {2}, {4, 9, 2}, gpu()),
              dynamic_slice(ac, s1, {2}, {4, 9, 2}, cpu()), 0, 0);
  array u = random_array({2, 9, 2}, float16, 102);
  expect_same(dynamic_slice_update(ag, u, s1, {2}, gpu()),
              dynamic_slice_update(ac, u, s1, {2}, cpu()), 0, 0);
  // A KV-cache write at a position held in a device array.
  array cache = zeros({1, 8, 4}, float32, gpu());
  array cc = zeros({1, 8, 4}, float32, cpu());
  for (int t = 0; t < 8; ++t) {
    array pos = astype(array(std::vector<int32_t>{t}, {1}), int32, gpu());
    array row = random_array({1, 1, 4}, float32, 110 + t);
    cache = dynamic_slice_update(cache, row, pos, {1}, gpu());
    cc = dynamic_slice_update(cc, row, array(std::vector<int32_t>{t}, {1}), {1}, cpu());
    eval(cache);
  }
  expect_same(cache, cc, 0, 0);
}

TEST(CudaManipulation, Diagonal) {
  NoFallback strict;
  array a = random_array({5, 6, 3}, float32, 120);
  array ag = astype(a, float32, gpu());
  for (int off : {0, 2, -3, 7}) {
    expect_same(diagonal(ag, off, 0, 1, gpu()), diagonal(a, off, 0, 1, cpu()), 0, 0);
    expect_same(astype(diagonal(ag, off, 2, 0, gpu()), float16, gpu()),
                astype(diagonal(a, off, 2, 0, cpu()), float16, cpu()), 0, 0);
  }
}

}  // namespace
}  // namespace uma::test
