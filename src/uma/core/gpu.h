// What core asks of a GPU backend. backend/cuda implements these; in a build
// without it, backend/no_gpu reports no device (and the data hooks are never
// reached, since no Data then holds device bytes).
#pragma once

#include <cstddef>
#include <string>

#include "uma/core/device.h"

namespace uma::detail {

struct Data;

// Usable GPUs: 0 without a GPU backend, a driver or a device.
int gpu_count();
// Makes d's host bytes current (allocating them if needed); waits for the
// device work that writes them.
void gpu_to_host(Data& d);
// Frees d's device bytes (stream-ordered after the work that uses them).
void gpu_release(Data& d);
// Waits until the device work queued on stream s has finished.
void gpu_synchronize(Stream s);
// Device bytes held by arrays, the most held since the last reset, and held
// by the allocator's cache.
size_t gpu_active_memory();
size_t gpu_peak_memory();
void gpu_reset_peak_memory();
size_t gpu_cache_memory();
void gpu_clear_cache();
// "key:  value" lines about device d (uma info --system).
std::string gpu_device_info(int index);

}  // namespace uma::detail
