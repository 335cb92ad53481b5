// The CUDA backend's runtime: devices, streams, the device-memory pool, the
// host/device copies of array data, and core's GPU hooks (uma/core/gpu.h).
#include "uma/backend/cuda/device.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <unordered_map>

#include "uma/core/gpu.h"

namespace uma::cuda {

void check(cudaError_t e, const char* what, const char* file, int line) {
  if (e == cudaSuccess) return;
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  std::string msg = std::string("[cuda] ") + what + " failed: " + cudaGetErrorString(e) + " (" + file + ":" +
                    std::to_string(line) + ")";
  if (e == cudaErrorMemoryAllocation) throw out_of_memory(msg);
  throw std::runtime_error(msg);
}

namespace {

struct Runtime {
  std::mutex mutex;
  int devices = 0;
  std::vector<cudaMemPool_t> pools;
  std::vector<int> sms;
  std::unordered_map<int, cudaStream_t> streams;  // uma stream index -> CUDA stream
  size_t active = 0, peak = 0;

  Runtime() {
    if (cudaGetDeviceCount(&devices) != cudaSuccess) {
      cudaGetLastError();
      devices = 0;
    }
    for (int d = 0; d < devices; ++d) {
      cudaMemPool_t pool{};
      UMA_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, d));
      // Keep freed memory in the pool: allocation stays a pool operation.
      uint64_t keep = UINT64_MAX;
      UMA_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep));
      pools.push_back(pool);
      int n = 0;
      UMA_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, d));
      sms.push_back(n);
    }
  }

  cudaStream_t get(const Stream& s) {
    std::lock_guard lock(mutex);
    auto it = streams.find(s.index);
    if (it != streams.end()) return it->second;
    UMA_CUDA_CHECK(cudaSetDevice(s.device.index));
    cudaStream_t cs{};
    UMA_CUDA_CHECK(cudaStreamCreateWithFlags(&cs, cudaStreamNonBlocking));
    streams.emplace(s.index, cs);
    return cs;
  }

  // The CUDA stream of a stream index already seen (data's writer).
  cudaStream_t by_index(int index) {
    std::lock_guard lock(mutex);
    auto it = streams.find(index);
    return it == streams.end() ? nullptr : it->second;
  }

  void add_active(size_t n) {
    std::lock_guard lock(mutex);
    active += n;
    peak = std::max(peak, active);
  }
  void sub_active(size_t n) {
    std::lock_guard lock(mutex);
    active -= std::min(active, n);
  }
};

Runtime& runtime() {
  static Runtime* r = new Runtime();  // never destroyed: arrays may outlive static destruction
  return *r;
}

std::string mib(size_t bytes) { return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB"; }

}  // namespace

cudaStream_t stream(const Stream& s) {
  cudaStream_t cs = runtime().get(s);
  UMA_CUDA_CHECK(cudaSetDevice(s.device.index));
  return cs;
}

int sm_count(int device) { return runtime().sms.at(device); }

void* alloc(size_t bytes, const Stream& s) {
  if (bytes == 0) return nullptr;
  cudaStream_t cs = stream(s);
  void* p = nullptr;
  cudaError_t e = cudaMallocAsync(&p, bytes, cs);
  if (e == cudaErrorMemoryAllocation) {
    // The pool may hold freed blocks of other sizes: give them back, retry.
    cudaGetLastError();
    UMA_CUDA_CHECK(cudaDeviceSynchronize());
    UMA_CUDA_CHECK(cudaMemPoolTrimTo(runtime().pools.at(s.device.index), 0));
    e = cudaMallocAsync(&p, bytes, cs);
  }
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    throw out_of_memory("[cuda] out of GPU memory: " + mib(bytes) + " asked of GPU " +
                        std::to_string(s.device.index) + ", " + mib(runtime().active) + " held by arrays, " +
                        mib(free_b) + " free of " + mib(total_b));
  }
  UMA_CUDA_CHECK(e);
  runtime().add_active(bytes);
  return p;
}

namespace {

// Waits for device work of another stream that writes d (caller holds
// d.mirror_mutex).
void order_after_writer(detail::Data& d, const Stream& s) {
  if (d.gpu_stream == s.index || d.gpu_stream < 0) return;
  if (cudaStream_t w = runtime().by_index(d.gpu_stream)) UMA_CUDA_CHECK(cudaStreamSynchronize(w));
}

}  // namespace

const void* in_ptr(const array& a, const Stream& s) {
  detail::Data* d = a.desc()->data.get();
  if (!d) throw std::logic_error("[cuda] input array has no data (not evaluated)");
  std::lock_guard lock(d->mirror_mutex);
  if (!d->gpu) {
    if (d->buffer.size == 0) return nullptr;
    void* p = alloc(d->buffer.size, s);
    UMA_CUDA_CHECK(cudaMemcpyAsync(p, d->buffer.ptr, d->buffer.size, cudaMemcpyHostToDevice, stream(s)));
    d->gpu = p;
    d->gpu_stream = s.index;
  } else {
    order_after_writer(*d, s);
  }
  return static_cast<const char*>(d->gpu) + a.byte_offset();
}

namespace {
std::shared_ptr<detail::Data> device_data(size_t bytes, const Stream& s) {
  auto data = std::make_shared<detail::Data>(allocator::Buffer{nullptr, bytes}, nullptr, true);
  data->gpu = alloc(bytes, s);
  data->gpu_stream = s.index;
  data->host_valid.store(false, std::memory_order_release);
  return data;
}
}  // namespace

void* out_ptr(array& out, const Stream& s) {
  if (out.nbytes() == 0) {
    out.set_data(allocator::malloc(0));
    return nullptr;
  }
  auto data = device_data(out.nbytes(), s);
  void* p = data->gpu;
  out.set_data(std::move(data));
  return p;
}

void* out_ptr(array& out, const Stream& s, size_t data_size, Strides strides, Flags flags) {
  size_t bytes = data_size * out.itemsize();
  if (bytes == 0) {
    out.set_data(allocator::malloc(0), data_size, std::move(strides), flags);
    return nullptr;
  }
  auto data = device_data(bytes, s);
  void* p = data->gpu;
  out.set_data(std::move(data), data_size, std::move(strides), flags);
  return p;
}

namespace {
std::atomic<bool>& fallback_allowed() {
  static std::atomic<bool> allowed = [] {
    const char* e = std::getenv("UMA_CUDA_STRICT");
    return !(e && std::string(e) == "1");
  }();
  return allowed;
}
}  // namespace

bool set_cpu_fallback(bool allowed) { return fallback_allowed().exchange(allowed); }

void cpu_fallback(Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs) {
  if (!fallback_allowed()) {
    throw not_implemented(std::string("[") + p.name() + "] has no CUDA kernel (CPU fallback is off)");
  }
  static std::mutex m;
  static std::set<std::string> noted;
  {
    std::lock_guard lock(m);
    if (noted.insert(p.name()).second) {
      std::fprintf(stderr, "uma: [%s] has no CUDA kernel yet; it runs on the CPU\n", p.name());
    }
  }
  p.eval_cpu(inputs, outputs);
}

}  // namespace uma::cuda

namespace uma::detail {

using cuda::mib;
using cuda::runtime;

int gpu_count() { return runtime().devices; }

void gpu_to_host(Data& d) {
  std::lock_guard lock(d.mirror_mutex);
  if (d.host_valid.load(std::memory_order_acquire)) return;
  if (!d.buffer.ptr) d.buffer = allocator::malloc(d.buffer.size);
  cudaStream_t cs = runtime().by_index(d.gpu_stream);
  UMA_CUDA_CHECK(cudaMemcpyAsync(d.buffer.ptr, d.gpu, d.buffer.size, cudaMemcpyDeviceToHost, cs));
  UMA_CUDA_CHECK(cudaStreamSynchronize(cs));
  d.host_valid.store(true, std::memory_order_release);
}

void gpu_release(Data& d) {
  // Stream-ordered: the bytes return to the pool after the work queued on
  // their stream. Never throws (destructors; the runtime may be gone at exit).
  cudaStream_t cs = runtime().by_index(d.gpu_stream);
  if (cudaFreeAsync(d.gpu, cs) != cudaSuccess) cudaGetLastError();
  runtime().sub_active(d.buffer.size);
  d.gpu = nullptr;
}

void gpu_synchronize(Stream s) { UMA_CUDA_CHECK(cudaStreamSynchronize(cuda::stream(s))); }

size_t gpu_active_memory() { return runtime().devices ? runtime().active : 0; }
size_t gpu_peak_memory() { return runtime().devices ? runtime().peak : 0; }
void gpu_reset_peak_memory() {
  std::lock_guard lock(runtime().mutex);
  runtime().peak = runtime().active;
}
size_t gpu_cache_memory() {
  size_t cached = 0;
  for (auto pool : runtime().pools) {
    uint64_t reserved = 0, used = 0;
    cudaMemPoolGetAttribute(pool, cudaMemPoolAttrReservedMemCurrent, &reserved);
    cudaMemPoolGetAttribute(pool, cudaMemPoolAttrUsedMemCurrent, &used);
    cached += reserved > used ? reserved - used : 0;
  }
  return cached;
}
void gpu_clear_cache() {
  if (!runtime().devices) return;
  UMA_CUDA_CHECK(cudaDeviceSynchronize());
  for (auto pool : runtime().pools) UMA_CUDA_CHECK(cudaMemPoolTrimTo(pool, 0));
}

std::string gpu_device_info(int index) {
  if (index < 0 || index >= runtime().devices) {
    throw std::invalid_argument("[device_info] GPU " + std::to_string(index) + " does not exist (" +
                                std::to_string(runtime().devices) + " found)");
  }
  cudaDeviceProp p{};
  UMA_CUDA_CHECK(cudaGetDeviceProperties(&p, index));
  int driver = 0, rt = 0;
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&rt);
  size_t free_b = 0, total_b = 0;
  UMA_CUDA_CHECK(cudaSetDevice(index));
  UMA_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  auto ver = [](int v) { return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10); };
  std::string s;
  s += "gpu:  " + std::to_string(index) + " " + p.name + "\n";
  s += "compute capability:  " + std::to_string(p.major) + "." + std::to_string(p.minor) + "\n";
  s += "memory:  " + mib(total_b) + " (" + mib(free_b) + " free)\n";
  s += "multiprocessors:  " + std::to_string(p.multiProcessorCount) + "\n";
  s += "L2 cache:  " + mib(p.l2CacheSize) + "\n";
  s += "CUDA driver / runtime:  " + ver(driver) + " / " + ver(rt) + "\n";
  return s;
}

}  // namespace uma::detail
