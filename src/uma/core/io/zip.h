// Minimal zip archives for .npz: reading stored and deflated members (ZIP64
// sizes and offsets included, CRC-checked), writing stored or deflated
// members without ZIP64 (archives and members below 4 GiB).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "uma/core/allocator.h"
#include "uma/core/io/file.h"

namespace uma::io {

struct ZipMember {
  std::string name;
  uint16_t method = 0;  // 0 stored, 8 deflated
  uint32_t crc = 0;
  uint64_t compressed_size = 0, size = 0;
  uint64_t data_offset = 0;  // of the member's bytes in the archive
};

// The members of an archive held in memory; every field is checked against
// the archive's size. `op` and `path` name the caller in errors.
std::vector<ZipMember> zip_members(const uint8_t* data, size_t size, const std::string& path, const char* op);

// A member's uncompressed bytes in a fresh allocator buffer (freed by the
// returned owner), checked against its CRC-32.
std::shared_ptr<allocator::Buffer> zip_extract(const uint8_t* data, const ZipMember& m, const std::string& path,
                                               const char* op);

// Checks a stored member's bytes (in place in the archive) against its CRC-32.
void zip_check_stored(const uint8_t* data, const ZipMember& m, const std::string& path, const char* op);

// Streams members into an AtomicWriter: begin(name), write(...)*, end(), then
// finish() writes the central directory.
class ZipWriter {
 public:
  ZipWriter(AtomicWriter& out, std::string path, const char* op) : out_(out), path_(std::move(path)), op_(op) {}
  ~ZipWriter();
  void begin(const std::string& name, bool deflate);
  void write(const void* data, size_t n);
  void end();
  void finish();

 private:
  struct Entry {
    std::string name;
    uint16_t method;
    uint32_t crc;
    uint64_t csize, size, offset;
  };
  void put_compressed(const void* data, size_t n, bool flush);
  [[noreturn]] void too_large(const std::string& what);
  AtomicWriter& out_;
  std::string path_;
  const char* op_;
  std::vector<Entry> entries_;
  Entry cur_{};
  bool open_ = false;
  void* zs_ = nullptr;  // z_stream while deflating
};

}  // namespace uma::io
