// File plumbing shared by the loaders and savers: regular-file checks, small
// files read whole, read-only memory maps, atomic writes (temp file, fsync,
// rename). No arrays here: the text layer reads its files with these too;
// array_bytes.h turns bytes into arrays and back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>


namespace uma::io {

// Opens `path` read-only, but only if it is a regular file: a FIFO, device
// (/dev/zero behind a symlink), socket or directory is refused with an error
// naming the path instead of blocking in open() or reading without end. The
// FIFO check needs O_NONBLOCK at open; it is cleared again before returning.
// Returns the descriptor (the caller closes it) and sets *size. Throws
// std::invalid_argument "[op] cannot open PATH: reason" or "[op] PATH is a
// directory, not a file".
int open_regular_file(const std::string& path, const char* op, uint64_t* size = nullptr);

// Sees the path of every file open_regular_file opens, after the open
// succeeds: every read_small_file, MappedFile and mapped tokenizer.json goes
// through it. For tests that count how often a loader reads each file; null
// (the default) sees nothing. Returns the observer it replaces. Calls are
// serialized; the observer must not open files itself.
using OpenObserver = std::function<void(const std::string& path)>;
OpenObserver set_open_observer(OpenObserver observer);

// Files read whole into memory (JSON, templates, prompt files) are capped: a
// tokenizer.json of a 256k vocabulary is ~35 MB; 128 MiB leaves room while
// keeping a hostile file from exhausting memory.
constexpr uint64_t kMaxTextFileBytes = uint64_t(128) << 20;

// The bytes of the regular file at `path`, at most `max_bytes` of them (a
// larger file is an error naming the path, its size and the cap).
std::string read_small_file(const std::string& path, const char* op,
                            uint64_t max_bytes = kMaxTextFileBytes);

// A read-only private mapping of a whole file. Arrays that point into it hold
// a shared_ptr in their deleter, so it outlives the loader's result.
class MappedFile {
 public:
  // `op` names the calling API in error messages ("[op] cannot open ...").
  static std::shared_ptr<MappedFile> open(const std::string& path, const char* op);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

// Writes `path` atomically: the bytes go to a sibling temporary file that
// replaces `path` only on commit() (after fsync); if the writer is destroyed
// first, the temporary is removed and `path` is untouched.
class AtomicWriter {
 public:
  AtomicWriter(const std::string& path, const char* op);
  ~AtomicWriter();
  AtomicWriter(const AtomicWriter&) = delete;
  AtomicWriter& operator=(const AtomicWriter&) = delete;

  void write(const void* data, size_t n);
  // Overwrites bytes already written (to patch a header).
  void write_at(uint64_t offset, const void* data, size_t n);
  uint64_t position() const { return pos_; }
  // replace = false: never replaces an existing `path` (renameat2
  // RENAME_NOREPLACE; where the kernel lacks it, a check right before the
  // rename) and throws "[op] PATH already exists" instead.
  void commit(bool replace = true);

 private:
  [[noreturn]] void fail(const std::string& what);
  std::string path_, tmp_;
  const char* op_;
  int fd_ = -1;
  uint64_t pos_ = 0;
  bool committed_ = false;
};

// Writes `bytes` as the whole of `path` through an AtomicWriter (the old
// file, if any, is replaced only once the new one is complete).
void write_file_atomic(const std::string& path, std::string_view bytes, const char* op);

// A new, empty folder beside `target` (same parent, so a final rename into
// place is atomic), named ".<target name>.tmp-XXXXXX" and created 0700. It
// is removed with its contents on destruction unless release()d (after it
// was moved into place). Throws std::invalid_argument "[op] cannot create a
// folder beside TARGET: reason".
class TempDir {
 public:
  TempDir(const std::string& target, const char* op);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  void release() { path_.clear(); }
  // Gives the folder the permissions a new folder gets (0777 less the umask).
  void make_readable() const;

 private:
  std::string path_;
};

// Checked arithmetic for lengths from untrusted files.
inline bool mul_overflows(uint64_t a, uint64_t b, uint64_t* out) { return __builtin_mul_overflow(a, b, out); }
inline bool add_overflows(uint64_t a, uint64_t b, uint64_t* out) { return __builtin_add_overflow(a, b, out); }

}  // namespace uma::io
