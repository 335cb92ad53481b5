#include "uma/core/io/file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>
#include <stdexcept>
#include <system_error>


namespace uma::io {

namespace {
std::string errno_str() { return std::strerror(errno); }

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

std::mutex g_observer_mutex;
OpenObserver g_observer;
}  // namespace

OpenObserver set_open_observer(OpenObserver observer) {
  std::lock_guard<std::mutex> lock(g_observer_mutex);
  std::swap(g_observer, observer);
  return observer;
}

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
  std::lock_guard<std::mutex> lock(g_observer_mutex);
  try {
    if (g_observer) g_observer(path);
  } catch (...) {
    ::close(fd);
    throw;
  }
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

void write_file_atomic(const std::string& path, std::string_view bytes, const char* op) {
  AtomicWriter w(path, op);
  w.write(bytes.data(), bytes.size());
  w.commit();
}

void AtomicWriter::commit(bool replace) {
  if (::fsync(fd_) != 0) fail("cannot sync");
  if (::close(fd_) != 0) {
    fd_ = -1;
    fail("cannot close");
  }
  fd_ = -1;
  if (replace) {
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) fail("cannot rename");
  } else if (::renameat2(AT_FDCWD, tmp_.c_str(), AT_FDCWD, path_.c_str(), RENAME_NOREPLACE) != 0) {
    int err = errno;
    struct stat st;
    if ((err == EINVAL || err == ENOSYS) && ::lstat(path_.c_str(), &st) != 0) {
      if (::rename(tmp_.c_str(), path_.c_str()) != 0) fail("cannot rename");
    } else if (err == EEXIST || err == EINVAL || err == ENOSYS) {
      throw std::invalid_argument(std::string("[") + op_ + "] " + path_ + " already exists");
    } else {
      errno = err;
      fail("cannot rename");
    }
  }
  committed_ = true;
  // Make the rename itself durable.
  std::string dir = path_.find('/') == std::string::npos ? "." : path_.substr(0, path_.rfind('/') + 1);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}


TempDir::TempDir(const std::string& target, const char* op) {
  std::filesystem::path t(target);
  std::string tmpl = (t.parent_path() / ("." + t.filename().string() + ".tmp-XXXXXX")).string();
  if (!::mkdtemp(tmpl.data())) {
    throw std::invalid_argument(std::string("[") + op + "] cannot create a folder beside " + target + ": " +
                                std::strerror(errno));
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

void TempDir::make_readable() const {
  mode_t mask = ::umask(0);
  ::umask(mask);
  std::filesystem::permissions(path_, std::filesystem::perms(0777 & ~mask));
}

}  // namespace uma::io
