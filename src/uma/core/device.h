// Devices and streams. A stream orders work on one device; every primitive
// records the stream it runs on.
#pragma once

#include <string>
#include <variant>

namespace uma {

struct Device {
  enum class Type { cpu, gpu };
  Type type = Type::cpu;
  int index = 0;

  static constexpr Type cpu = Type::cpu;
  static constexpr Type gpu = Type::gpu;
  bool operator==(const Device&) const = default;
};

struct Stream {
  int index = 0;
  Device device;
  bool operator==(const Stream&) const = default;
};

// The device new arrays are computed on when no stream is given.
Device default_device();
void set_default_device(const Device& d);
bool is_available(const Device& d);

// Each device has a default stream; new_stream() makes another one with its
// own worker thread.
Stream default_stream(Device d);
void set_default_stream(Stream s);
Stream new_stream(Device d);
// Blocks until every task queued on s has finished.
void synchronize(Stream s);
void synchronize();

// Ops take `StreamOrDevice s = {}`: empty means the default stream of the
// default device.
using StreamOrDevice = std::variant<std::monostate, Stream, Device>;
Stream to_stream(StreamOrDevice s);

// What the backend of `d` knows about its hardware, as "key:  value" lines
// (`uma info --system`): for the CPU its model, features and the ISA tier
// the kernels run at. Core declares these; each backend implements them.
std::string device_info(const Device& d);

// The CPU backend's worker threads; UMA_NUM_THREADS sets the default (the
// machine's cores). set_cpu_threads throws for n outside 1..1024.
int cpu_threads();
void set_cpu_threads(int n);

}  // namespace uma
