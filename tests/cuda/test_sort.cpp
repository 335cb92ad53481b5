// The sort and random-bits kernels (sort.cu, random.cu) against the CPU
// backend: sort/argsort of 1 to 131072 elements along the last and a
// non-last axis (every path: one block per line, device-wide sorts of a few
// long lines, segmented sorts), ties (argsort is stable), NaN, infinities and
// signed zeros; partitions by their defining property; random bits
// bit-identical to the CPU for several keys, widths and shapes.
#include <algorithm>
#include <limits>
#include <memory>

#include "cuda/cuda_util.h"
#include "uma/core/primitives/random.h"

namespace uma::test {
namespace {

// Values with many ties: integers in [-20, 20] (cast to t).
array tied_array(const Shape& shape, Dtype t, uint32_t seed) {
  array x = random_array(shape, int32, seed, -20, 20);
  if (t == bool_ || is_unsigned(t)) x = random_array(shape, int32, seed, 0, 40);
  return astype(x, t);
}

TEST(CudaSort, SizesAndAxes) {
  NoFallback strict;
  for (int n : {1, 33, 4096, 131072}) {
    for (Dtype t : {float32, bfloat16, int32, uint8}) {
      array x =
          n >= 4096 ? random_array({2, n}, t, uint32_t(n)) : random_array({3, n}, t, uint32_t(n));
      std::string what = std::to_string(n) + " " + dtype_name(t);
      expect_same(sort(x, -1, gpu()), sort(x, -1, cpu()), 0, 0, "sort " + what);
      expect_same(argsort(x, -1, gpu()), argsort(x, -1, cpu()), 0, 0, "argsort " + what);
      // Along a non-last axis.
      array y = n >= 4096 ? random_array({n, 2}, t, uint32_t(n + 1))
                          : random_array({2, n, 3}, t, uint32_t(n + 1));
      expect_same(sort(y, n >= 4096 ? 0 : 1, gpu()), sort(y, n >= 4096 ? 0 : 1, cpu()), 0, 0,
                  "sort axis " + what);
      expect_same(argsort(y, n >= 4096 ? 0 : 1, gpu()), argsort(y, n >= 4096 ? 0 : 1, cpu()), 0, 0,
                  "argsort axis " + what);
    }
  }
}

TEST(CudaSort, EveryDtypeWithTies) {
  NoFallback strict;
  for (Dtype t : {bool_, uint8, uint16, uint32, uint64, int8, int16, int32, int64, float16,
                  bfloat16, float32, float64}) {
    for (Shape sh : {Shape{7, 100}, Shape{3, 2000}, Shape{2, 5000}, Shape{9, 4500}}) {
      array x = tied_array(sh, t, 5);
      std::string what = dtype_name(t) + std::string(" n=") + std::to_string(sh[1]);
      expect_same(sort(x, 1, gpu()), sort(x, 1, cpu()), 0, 0, "sort " + what);
      expect_same(argsort(x, 1, gpu()), argsort(x, 1, cpu()), 0, 0, "argsort " + what);  // stable
    }
  }
  // A sampling-sized vocabulary, several rows (segmented sort).
  array logits = random_array({6, 131072}, bfloat16, 6);
  expect_same(argsort(logits, -1, gpu()), argsort(logits, -1, cpu()), 0, 0);
  expect_same(sort(tied_array({6, 131072}, float32, 7), -1, gpu()),
              sort(tied_array({6, 131072}, float32, 7), -1, cpu()), 0, 0);
}

TEST(CudaSort, NanInfAndZeros) {
  NoFallback strict;
  const float inf = std::numeric_limits<float>::infinity(), nan = std::nanf("");
  std::vector<float> v = {3.f, nan,  -0.f, 0.f,  -inf, inf,  -nan, 1.f,
                          0.f, -0.f, nan,  -2.f, inf,  -inf, 1.f};
  for (int rep = 0; rep < 3; ++rep) v.insert(v.end(), v.begin(), v.begin() + 15);
  array x(v, {int(v.size())});
  for (Dtype t : {float16, bfloat16, float32, float64}) {
    array y = astype(x, t);
    expect_same(sort(y, 0, gpu()), sort(y, 0, cpu()), 0, 0, dtype_name(t));
    expect_same(argsort(y, 0, gpu()), argsort(y, 0, cpu()), 0, 0, dtype_name(t));
  }
  // Long lines take the device-wide path.
  array big = random_array({10000}, float32, 8);
  std::vector<float> b = big.to_vector<float>();
  for (size_t i = 0; i < b.size(); i += 97) b[i] = nan;
  for (size_t i = 5; i < b.size(); i += 89) b[i] = (i % 2) ? 0.f : -0.f;
  array bb(b, {int(b.size())});
  expect_same(sort(bb, 0, gpu()), sort(bb, 0, cpu()), 0, 0);
  expect_same(argsort(bb, 0, gpu()), argsort(bb, 0, cpu()), 0, 0);
}

TEST(CudaSort, ViewsAndEmpty) {
  NoFallback strict;
  array x = random_array({40, 30}, float32, 9);
  array xg = transpose(astype(x, float32, gpu()), {1, 0}, gpu());
  array xc = transpose(x, {1, 0}, cpu());
  expect_same(sort(xg, 1, gpu()), sort(xc, 1, cpu()), 0, 0);
  expect_same(argsort(xg, 0, gpu()), argsort(xc, 0, cpu()), 0, 0);
  expect_same(argsort(xg, gpu()), argsort(xc, cpu()), 0, 0);  // flattened
  array e = random_array({0, 5}, float32, 10);
  expect_same(sort(e, 0, gpu()), sort(e, 0, cpu()));
  expect_same(argsort(e, 1, gpu()), argsort(e, 1, cpu()));
}

// Partition order is implementation-defined: check the kth element equals
// the CPU's and that nothing larger precedes it nor smaller follows it, and
// that each line holds the same multiset.
void expect_partition(array values, array part, int kth, const std::string& what) {
  int rows = values.shape(0), n = values.shape(1);
  auto v = values.to_vector<double>();
  auto p = part.to_vector<double>();
  for (int r = 0; r < rows; ++r) {
    std::vector<double> a(v.begin() + r * n, v.begin() + (r + 1) * n),
        b(p.begin() + r * n, p.begin() + (r + 1) * n);
    std::sort(a.begin(), a.end());
    double pivot = b[kth];
    ASSERT_EQ(pivot, a[kth]) << what << " row " << r;
    for (int i = 0; i < kth; ++i) ASSERT_LE(b[i], pivot) << what << " row " << r << " at " << i;
    for (int i = kth + 1; i < n; ++i) ASSERT_GE(b[i], pivot) << what << " row " << r << " at " << i;
    std::sort(b.begin(), b.end());
    ASSERT_EQ(a, b) << what << " row " << r;
  }
}

TEST(CudaSort, Partition) {
  NoFallback strict;
  for (int n : {33, 4096, 20000}) {
    for (Dtype t : {float32, int16, bfloat16}) {
      array x = tied_array({3, n}, t, uint32_t(n + 11));
      if (t == float32) x = random_array({3, n}, t, uint32_t(n + 11));
      for (int kth : {0, n / 3, n - 1}) {
        std::string what =
            dtype_name(t) + std::string(" n=") + std::to_string(n) + " kth=" + std::to_string(kth);
        expect_partition(x, partition(x, kth, 1, gpu()), kth, "partition " + what);
        // Indices: the kth is unique (ties break by position); the rest gather a partition.
        array ig = argpartition(x, kth, 1, gpu());
        array ic = argpartition(x, kth, 1, cpu());
        expect_same(slice(ig, {0, kth}, {3, kth + 1}, cpu()),
                    slice(ic, {0, kth}, {3, kth + 1}, cpu()), 0, 0, what);
        expect_partition(x, take_along_axis(x, ig, 1, cpu()), kth, "argpartition " + what);
      }
    }
  }
  // Along axis 0, negative kth through the op.
  array y = random_array({50, 4}, float32, 12);
  array py = transpose(partition(y, -5, 0, gpu()), {1, 0}, cpu());
  expect_partition(transpose(y, {1, 0}, cpu()), py, 45, "partition axis 0");
}

TEST(CudaRandom, BitsMatchTheCpu) {
  NoFallback strict;
  for (uint64_t seed : {0ull, 1ull, 42ull, 0xdeadbeefcafeull}) {
    array key = random::key(seed);
    for (Shape sh :
         {Shape{}, Shape{1}, Shape{7}, Shape{3, 5}, Shape{1000}, Shape{4097}, Shape{2, 3, 33}}) {
      for (int width : {1, 2, 4}) {
        expect_same(random::bits(sh, width, key, gpu()), random::bits(sh, width, key, cpu()), 0, 0,
                    "seed " + std::to_string(seed) + " width " + std::to_string(width));
      }
    }
    // Key splitting is RandomBits too; and derived distributions.
    expect_same(random::split(key, 5, gpu()), random::split(key, 5, cpu()), 0, 0);
  }
  // Several keys at once, given as a non-contiguous view made on the device.
  array keys = random::split(random::key(7), 6, cpu());  // (6, 2)
  array kt = transpose(astype(transpose(keys, {1, 0}, cpu()), uint32, gpu()), {1, 0}, gpu());
  for (int width : {1, 2, 4}) {
    Dtype dt = width == 4 ? uint32 : width == 2 ? uint16 : uint8;
    for (Shape sh : {Shape{3}, Shape{5, 7}, Shape{1}}) {
      Shape out = {6};
      out.insert(out.end(), sh.begin(), sh.end());
      auto bits = [&](const array& k, Device d) {
        return array(out, dt, std::make_shared<RandomBits>(default_stream(d), sh, width), {k});
      };
      expect_same(bits(kt, gpu()), bits(keys, cpu()), 0, 0, "keys width " + std::to_string(width));
    }
  }
}

}  // namespace
}  // namespace uma::test
