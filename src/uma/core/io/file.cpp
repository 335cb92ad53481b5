#include "uma/core/io/file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <random>
#include <stdexcept>
#include <system_error>
#include <thread>

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
std::string cap_str(uint64_t n) {
  return n % (1u << 20) == 0 ? std::to_string(n >> 20) + " MiB" : std::to_string(n) + " bytes";
}

const char* file_kind(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISCHR(m) || S_ISBLK(m)) return "a device";
  if (S_ISSOCK(m)) return "a socket";
  return "a special file";
}
}  // namespace

int open_regular_file(const std::string& path, const char* op, uint64_t* size) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    throw std::invalid_argument(std::string("[") + op + "] cannot open " + path + ": " +
                                errno_str());
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    std::string err = errno_str();
    ::close(fd);
    throw std::invalid_argument(std::string("[") + op + "] cannot stat " + path + ": " + err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw std::invalid_argument(std::string("[") + op + "] " + path + " is " +
                                file_kind(st.st_mode) + ", not a regular file");
  }
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  if (size) *size = uint64_t(st.st_size);
  return fd;
}

std::string read_small_file(const std::string& path, const char* op, uint64_t max_bytes) {
  uint64_t size = 0;
  int fd = open_regular_file(path, op, &size);
  struct Close {
    int fd;
    ~Close() { ::close(fd); }
  } close_fd{fd};
  if (size > max_bytes) {
    throw std::invalid_argument(std::string("[") + op + "] " + path + " is " +
                                std::to_string(size) + " bytes, more than the " +
                                cap_str(max_bytes) + " allowed");
  }
  std::string out(size_t(size), '\0');
  size_t done = 0;
  // Read to the end, but never past the cap: the file may grow meanwhile.
  for (;;) {
    if (done == out.size()) {
      if (out.size() >= max_bytes) {
        char probe;
        ssize_t more = ::read(fd, &probe, 1);
        if (more > 0) {
          throw std::invalid_argument(std::string("[") + op + "] " + path + " is more than the " +
                                      cap_str(max_bytes) + " allowed");
        }
        break;
      }
      out.resize(std::min<uint64_t>(max_bytes, std::max<uint64_t>(4096, out.size() * 2)));
    }
    ssize_t got = ::read(fd, out.data() + done, out.size() - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0)
      throw std::invalid_argument(std::string("[") + op + "] cannot read " + path + ": " +
                                  errno_str());
    if (got == 0) break;
    done += size_t(got);
  }
  out.resize(done);
  return out;
}

std::shared_ptr<MappedFile> MappedFile::open(const std::string& path, const char* op) {
  uint64_t size = 0;
  int fd = open_regular_file(path, op, &size);
  std::shared_ptr<MappedFile> m(new MappedFile());
  m->path_ = path;
  m->size_ = size_t(size);
  if (m->size_ > 0) {
    void* p = mmap(nullptr, m->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      throw std::invalid_argument(std::string("[") + op + "] cannot map " + path + ": " + errno_str());
    }
    m->data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);  // the mapping stays valid
  return m;
}

MappedFile::~MappedFile() {
  if (data_) munmap(const_cast<uint8_t*>(data_), size_);
}

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

AtomicWriter::AtomicWriter(const std::string& path, const char* op) : path_(path), op_(op) {
  static std::atomic<uint64_t> counter{0};
  std::random_device rd;
  for (int attempt = 0; attempt < 100 && fd_ < 0; ++attempt) {
    char suffix[32];
    std::snprintf(suffix, sizeof(suffix), ".tmp.%08x%04x", rd(), unsigned(counter++ & 0xffff));
    tmp_ = path + suffix;
    // O_EXCL: never clobber someone else's file; mode 0666 honours the umask.
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0 && errno != EEXIST) break;
  }
  if (fd_ < 0) {
    throw std::invalid_argument(std::string("[") + op_ + "] cannot create " + tmp_ + " next to " + path + ": " +
                                errno_str());
  }
}

AtomicWriter::~AtomicWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_.c_str());
}

void AtomicWriter::fail(const std::string& what) {
  throw std::runtime_error(std::string("[") + op_ + "] " + what + " " + tmp_ + " (for " + path_ + "): " +
                           errno_str());
}

void AtomicWriter::write(const void* data, size_t n) {
  write_at(pos_, data, n);
  pos_ += n;
}

void AtomicWriter::write_at(uint64_t offset, const void* data, size_t n) {
  auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    ssize_t w = ::pwrite(fd_, p, n, off_t(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      fail("cannot write");
    }
    p += w;
    n -= size_t(w);
    offset += uint64_t(w);
  }
}

void AtomicWriter::commit() {
  if (::fsync(fd_) != 0) fail("cannot sync");
  if (::close(fd_) != 0) {
    fd_ = -1;
    fail("cannot close");
  }
  fd_ = -1;
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) fail("cannot rename");
  committed_ = true;
  // Make the rename itself durable.
  std::string dir = path_.find('/') == std::string::npos ? "." : path_.substr(0, path_.rfind('/') + 1);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
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
