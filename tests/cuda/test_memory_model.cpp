// The CUDA backend's memory model and copy kernels: arrays computed on the
// GPU stay there until the host reads them; host data is uploaded once;
// views, copies and conversions between every pair of dtypes equal the CPU's.
#include "cuda/cuda_util.h"

namespace uma::test {
namespace {

TEST(CudaMemory, DeviceIsAvailable) {
  ASSERT_GT(detail::gpu_count(), 0) << "no GPU: run this suite on the GPU machine";
  EXPECT_TRUE(is_available(gpu()));
  EXPECT_FALSE(is_available(Device{Device::gpu, detail::gpu_count()}));
  EXPECT_THROW(default_stream(Device{Device::gpu, 99}), std::invalid_argument);
  std::string info = device_info(gpu());
  EXPECT_NE(info.find("compute capability"), std::string::npos) << info;
}

TEST(CudaMemory, ResultsStayOnTheDeviceUntilRead) {
  NoFallback strict;
  array x = random_array({1000}, float32, 1);
  array y = astype(x, float16, gpu());
  eval(y);
  EXPECT_TRUE(on_gpu(y));
  // Reading on the host copies back once; the device copy stays.
  auto v = y.to_vector<double>();
  auto xv = x.to_vector<double>();
  for (size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(v[i], xv[i], 2e-3 * std::fabs(xv[i]) + 1e-7);
  EXPECT_NE(y.desc()->data->gpu, nullptr);
  EXPECT_TRUE(y.desc()->data->host_valid.load());
}

TEST(CudaMemory, HostDataIsUploadedOnce) {
  NoFallback strict;
  array w = random_array({256, 256}, float32, 2);
  eval(w);
  array a = astype(w, bfloat16, gpu());
  eval(a);
  void* first = w.desc()->data->gpu;
  ASSERT_NE(first, nullptr);
  array b = astype(w, float16, gpu());
  eval(b);
  EXPECT_EQ(w.desc()->data->gpu, first);
}

TEST(CudaMemory, ActiveMemoryCountsDeviceBytes) {
  NoFallback strict;
  eval(random_array({8}, float32, 3));  // the runtime is up
  size_t before = get_active_memory();
  {
    array y = astype(random_array({1 << 20}, float32, 4), float32, gpu());
    array z = astype(y, float64, gpu());
    eval(z);
    EXPECT_GE(get_active_memory(), before + (8u << 20));
  }
  synchronize(default_stream(gpu()));
  EXPECT_LE(get_active_memory(), before + (1u << 20));
}

TEST(CudaMemory, OutOfMemoryIsAClearError) {
  NoFallback strict;
  // 64 TiB of float32: no card has it.
  array big = zeros({int32_t(1) << 30, 1 << 14}, float32, gpu());
  try {
    eval(big);
    FAIL() << "expected out_of_memory";
  } catch (const out_of_memory& e) {
    EXPECT_NE(std::string(e.what()).find("out of GPU memory"), std::string::npos) << e.what();
  }
  // The device still works afterwards.
  array ok = astype(random_array({16}, float32, 5), float16, gpu());
  expect_same(ok, astype(random_array({16}, float32, 5), float16, cpu()));
}

TEST(CudaCopy, AsTypeEveryPair) {
  NoFallback strict;
  for (Dtype from : all_dtypes()) {
    array x = random_array({3, 37}, from, 10);
    for (Dtype to : all_dtypes()) {
      // Out-of-range float -> integer conversions are undefined in C++ on
      // both backends: keep values in range of every type.
      if (is_floating_point(from) && !is_floating_point(to) && to != bool_) {
        x = abs(random_array({3, 37}, from, 10, -100, 100), cpu());
      }
      expect_same(astype(x, to, gpu()), astype(x, to, cpu()), -1, -1,
                  std::string(dtype_name(from)) + " -> " + dtype_name(to));
    }
  }
}

TEST(CudaCopy, ViewsAndContiguousCopies) {
  NoFallback strict;
  array x = random_array({4, 5, 6}, float32, 11);
  // Views of data already on the device, and of host data.
  array xd = astype(x, float32, gpu());
  for (const array& src : {x, xd}) {
    expect_same(copy(transpose(src, {2, 0, 1}, gpu()), gpu()), transpose(x, {2, 0, 1}, cpu()));
    expect_same(reshape(transpose(src, {1, 0, 2}, gpu()), {20, 6}, gpu()),
                reshape(transpose(x, {1, 0, 2}, cpu()), {20, 6}, cpu()));
    expect_same(astype(slice(src, {1, 0, 1}, {4, 5, 6}, {2, 2, 3}, gpu()), float16, gpu()),
                astype(slice(x, {1, 0, 1}, {4, 5, 6}, {2, 2, 3}, cpu()), float16, cpu()));
    expect_same(astype(broadcast_to(slice(src, {0, 0, 0}, {1, 5, 6}, gpu()), {3, 5, 6}, gpu()), float64, gpu()),
                astype(broadcast_to(slice(x, {0, 0, 0}, {1, 5, 6}, cpu()), {3, 5, 6}, cpu()), float64, cpu()));
    expect_same(view(src, int32, gpu()), view(x, int32, cpu()));
  }
  expect_same(full({7, 3}, array(2.5f), float32, gpu()), full({7, 3}, array(2.5f), float32, cpu()));
  expect_same(arange(3.0, 40.0, 0.5, float32, gpu()), arange(3.0, 40.0, 0.5, float32, cpu()));
  expect_same(arange(-5.0, 50.0, 3.0, int32, gpu()), arange(-5.0, 50.0, 3.0, int32, cpu()));
}

TEST(CudaCopy, CpuAndGpuOpsMixInOneGraph) {
  // A graph whose nodes alternate devices: each side reads the other's data.
  array x = random_array({64, 64}, float32, 12);
  array a = astype(x, float16, gpu());
  array b = astype(a, float32, cpu());
  array c = astype(transpose(b, {1, 0}, cpu()), float64, gpu());
  array ref = astype(transpose(astype(astype(x, float16, cpu()), float32, cpu()), {1, 0}, cpu()), float64, cpu());
  expect_same(c, ref, 0, 0);
}

}  // namespace
}  // namespace uma::test
