// core's GPU hooks in a build without a GPU backend: no device, no device
// bytes. gpu_to_host and gpu_release are unreachable (no Data ever holds
// device bytes here) and say so if reached.
#include <stdexcept>

#include "uma/core/gpu.h"

namespace uma::detail {

int gpu_count() { return 0; }
void gpu_to_host(Data&) { throw std::logic_error("[gpu_to_host] no GPU backend built"); }
void gpu_release(Data&) {}
void gpu_synchronize(Stream) {}
size_t gpu_active_memory() { return 0; }
size_t gpu_peak_memory() { return 0; }
void gpu_reset_peak_memory() {}
size_t gpu_cache_memory() { return 0; }
void gpu_clear_cache() {}
std::string gpu_device_info(int) {
  throw std::invalid_argument("[device_info] no GPU backend built (configure with -DUMA_CUDA=ON)");
}

}  // namespace uma::detail
