#include "uma/core/io/array_bytes.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "uma/core/io/file.h"
#include "uma/core/ops/shape.h"

namespace uma::io {

namespace {
std::string errno_str() { return std::strerror(errno); }

// Bool bytes other than 0/1 would be undefined behaviour as C++ bool.
bool bools_are_canonical(const uint8_t* p, size_t n) {
  uint8_t acc = 0;
  for (size_t i = 0; i < n; ++i) acc |= p[i];
  return acc <= 1;
}
}  // namespace

array copy_bytes(const uint8_t* bytes, Shape shape, Dtype dtype) {
  array out(std::move(shape), dtype, nullptr, {});
  size_t n = out.nbytes();
  allocator::Buffer buf = allocator::malloc(n);
  if (n) std::memcpy(buf.ptr, bytes, n);
  if (dtype == bool_) {
    auto* p = static_cast<uint8_t*>(buf.ptr);
    for (size_t i = 0; i < n; ++i) p[i] = p[i] != 0;
  }
  out.set_data(buf);
  return out;
}

std::vector<array> read_ranges(const std::string& path, const std::vector<ReadRange>& ranges,
                               const char* op) {
  int fd = open_regular_file(path, op);
  std::vector<size_t> sizes;
  std::vector<allocator::Buffer> bufs;
  // Closes the file and frees the buffers not yet handed to arrays (on any
  // exception: out of memory, a thread that cannot start, a failed read).
  struct Guard {
    int fd;
    std::vector<allocator::Buffer>& bufs;
    size_t handed = 0;
    ~Guard() {
      ::close(fd);
      for (size_t i = handed; i < bufs.size(); ++i) allocator::free(bufs[i]);
    }
  } guard{fd, bufs};
  size_t total = 0;
  for (auto& r : ranges) {
    size_t n = size_of(r.dtype);
    for (auto d : r.shape) n *= size_t(d);
    sizes.push_back(n);
    bufs.push_back(allocator::malloc(n));
    total += n;
  }
  // Large tensors are split into 16 MiB pieces so that the threads share a
  // few big tensors evenly; each thread takes every n-th piece.
  constexpr size_t kPiece = size_t(16) << 20;
  struct Piece {
    size_t index, begin, len;
  };
  std::vector<Piece> pieces;
  for (size_t i = 0; i < ranges.size(); ++i) {
    size_t n = sizes[i];
    for (size_t b = 0; b < n; b += kPiece) pieces.push_back({i, b, std::min(kPiece, n - b)});
  }
  std::atomic<bool> failed{false};
  std::string error;
  std::mutex error_mutex;
  auto work = [&](size_t first, size_t step) {
    for (size_t p = first; p < pieces.size() && !failed; p += step) {
      auto& pc = pieces[p];
      auto* dst = static_cast<uint8_t*>(bufs[pc.index].ptr) + pc.begin;
      uint64_t off = ranges[pc.index].offset + pc.begin;
      size_t done = 0;
      while (done < pc.len) {
        ssize_t got = ::pread(fd, dst + done, pc.len - done, off_t(off + done));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
          std::lock_guard lock(error_mutex);
          if (!failed.exchange(true)) {
            error = got < 0 ? errno_str() : "unexpected end of file (truncated while reading?)";
          }
          return;
        }
        done += size_t(got);
      }
    }
  };
  size_t threads = std::min<size_t>({4, std::max(1u, std::thread::hardware_concurrency()), pieces.size()});
  if (total < (size_t(64) << 20)) threads = 1;
  std::vector<std::thread> pool;
  size_t started = 1;
  try {
    for (; started < threads; ++started) pool.emplace_back(work, started, threads);
  } catch (const std::system_error&) {
    // Out of threads: this thread reads the shares of those not started.
  }
  work(0, std::max<size_t>(threads, 1));
  for (size_t t = started; t < threads; ++t) work(t, threads);
  for (auto& t : pool) t.join();
  if (failed) throw std::invalid_argument(std::string("[") + op + "] cannot read " + path + ": " + error);
  std::vector<array> out;
  out.reserve(ranges.size());
  for (size_t i = 0; i < ranges.size(); ++i) {
    if (ranges[i].dtype == bool_) {
      auto* p = static_cast<uint8_t*>(bufs[i].ptr);
      for (size_t k = 0; k < sizes[i]; ++k) p[k] = p[k] != 0;
    }
    out.emplace_back(bufs[i], ranges[i].shape, ranges[i].dtype);
    guard.handed = i + 1;
  }
  return out;
}

array wrap_or_copy(const uint8_t* bytes, Shape shape, Dtype dtype, std::shared_ptr<const void> keep_alive) {
  size_t item = size_of(dtype);
  size_t n = 1;
  for (auto d : shape) n *= size_t(d);
  bool aligned = reinterpret_cast<uintptr_t>(bytes) % item == 0;
  if (!keep_alive || n == 0 || !aligned || (dtype == bool_ && !bools_are_canonical(bytes, n))) {
    return copy_bytes(bytes, std::move(shape), dtype);
  }
  // The mapping is read-only; arrays over external memory are never donated,
  // so no kernel writes into it.
  return array(const_cast<uint8_t*>(bytes), std::move(shape), dtype, [keep = std::move(keep_alive)](void*) {});
}

array row_major(const array& a) {
  array x = a;
  x.eval();
  if (x.flags().row_contiguous && x.data_size() == x.size()) return x;
  array c = contiguous(x);
  c.eval();
  return c;
}

}  // namespace uma::io
