#include "uma/core/io/zip.h"

#include <zlib.h>

#include <cstring>
#include <stdexcept>

namespace uma::io {

namespace {

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr uint32_t kEnd64Sig = 0x06064b50, kLocator64Sig = 0x07064b50;
constexpr uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01: reproducible archives

uint16_t rd16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
uint32_t rd32(const uint8_t* p) { return uint32_t(rd16(p)) | (uint32_t(rd16(p + 2)) << 16); }
uint64_t rd64(const uint8_t* p) { return uint64_t(rd32(p)) | (uint64_t(rd32(p + 4)) << 32); }

void put16(std::string& s, uint16_t v) {
  s.push_back(char(v & 0xff));
  s.push_back(char(v >> 8));
}
void put32(std::string& s, uint32_t v) {
  put16(s, uint16_t(v & 0xffff));
  put16(s, uint16_t(v >> 16));
}

// Bit 11: the name is UTF-8 (set, like Python's zipfile, only when not ASCII).
uint16_t utf8_flag(const std::string& name) {
  for (unsigned char ch : name)
    if (ch >= 0x80) return 0x800;
  return 0;
}

uint32_t crc32_of(uint32_t crc, const uint8_t* p, uint64_t n) {
  while (n > 0) {
    uInt chunk = uInt(std::min<uint64_t>(n, 1u << 30));
    crc = uint32_t(::crc32(crc, p, chunk));
    p += chunk;
    n -= chunk;
  }
  return crc;
}

}  // namespace

std::vector<ZipMember> zip_members(const uint8_t* data, size_t size, const std::string& path, const char* op) {
  auto bad = [&](const std::string& what) -> void {
    throw std::invalid_argument(std::string("[") + op + "] " + path + ": " + what);
  };
  if (size < 22) bad("too short to be a zip archive (" + std::to_string(size) + " bytes)");
  // The end record is the last 22 bytes plus a comment of up to 64 KiB.
  size_t eocd = size_t(-1);
  size_t lowest = size > 22 + 65535 ? size - 22 - 65535 : 0;
  for (size_t i = size - 22 + 1; i-- > lowest;) {
    if (rd32(data + i) == kEndSig && i + 22 + rd16(data + i + 20) == size) {
      eocd = i;
      break;
    }
  }
  if (eocd == size_t(-1)) bad("no zip end-of-central-directory record (not a zip archive, or truncated)");
  const uint8_t* e = data + eocd;
  uint64_t count = rd16(e + 10), cd_size = rd32(e + 12), cd_offset = rd32(e + 16);
  if (rd16(e + 4) != 0 && rd16(e + 4) != 0xffff) bad("multi-disk archives are not supported");
  if (count == 0xffff || cd_size == 0xffffffffu || cd_offset == 0xffffffffu) {
    if (eocd < 20 || rd32(e - 20) != kLocator64Sig) bad("ZIP64 end record locator missing");
    uint64_t z = rd64(e - 12);
    if (z > size - 56 || size < 56 || rd32(data + z) != kEnd64Sig) bad("ZIP64 end record out of range");
    count = rd64(data + z + 32);
    cd_size = rd64(data + z + 40);
    cd_offset = rd64(data + z + 48);
  }
  if (cd_offset > size || cd_size > size - cd_offset) bad("central directory runs past the end of the archive");
  if (count > cd_size / 46) bad("central directory too small for " + std::to_string(count) + " entries");

  std::vector<ZipMember> out;
  uint64_t pos = cd_offset, cd_end = cd_offset + cd_size;
  for (uint64_t k = 0; k < count; ++k) {
    if (cd_end - pos < 46 || rd32(data + pos) != kCentralSig) bad("corrupt central directory entry " + std::to_string(k));
    const uint8_t* c = data + pos;
    uint16_t flags = rd16(c + 8), nlen = rd16(c + 28), xlen = rd16(c + 30), clen = rd16(c + 32);
    if (cd_end - pos < 46ull + nlen + xlen + clen) bad("central directory entry " + std::to_string(k) + " truncated");
    ZipMember m;
    m.name.assign(reinterpret_cast<const char*>(c + 46), nlen);
    m.method = rd16(c + 10);
    m.crc = rd32(c + 16);
    m.compressed_size = rd32(c + 20);
    m.size = rd32(c + 24);
    uint64_t local = rd32(c + 42);
    // ZIP64 extra field: the 64-bit values of the fields saturated above.
    for (const uint8_t *x = c + 46 + nlen, *xe = x + xlen; xe - x >= 4;) {
      uint16_t id = rd16(x), len = rd16(x + 2);
      if (uint64_t(xe - x - 4) < len) bad("member '" + m.name + "' has a truncated extra field");
      if (id == 0x0001) {
        const uint8_t *f = x + 4, *fe = f + len;
        auto take = [&](uint64_t& v) {
          if (v != 0xffffffffu) return;
          if (fe - f < 8) bad("member '" + m.name + "' has a short ZIP64 field");
          v = rd64(f);
          f += 8;
        };
        take(m.size);
        take(m.compressed_size);
        take(local);
      }
      x += 4 + len;
    }
    if (flags & 1) bad("member '" + m.name + "' is encrypted");
    if (m.method != 0 && m.method != 8) {
      bad("member '" + m.name + "' uses compression method " + std::to_string(m.method) +
          " (only stored and deflated are supported)");
    }
    if (local > size || size - local < 30 || rd32(data + local) != kLocalSig) {
      bad("member '" + m.name + "' has a bad local header offset");
    }
    uint64_t start = local + 30 + rd16(data + local + 26) + rd16(data + local + 28);
    if (start > size || m.compressed_size > size - start) bad("member '" + m.name + "' runs past the end of the archive");
    if (m.method == 0 && m.compressed_size != m.size) bad("stored member '" + m.name + "' has inconsistent sizes");
    // Deflate expands at most ~1032x: reject sizes no real stream can reach.
    if (m.method == 8 && m.size / 1032 > m.compressed_size + 64) bad("member '" + m.name + "' claims an impossible size");
    m.data_offset = start;
    out.push_back(std::move(m));
    pos += 46ull + nlen + xlen + clen;
  }
  return out;
}

std::shared_ptr<allocator::Buffer> zip_extract(const uint8_t* data, const ZipMember& m, const std::string& path,
                                               const char* op) {
  auto bad = [&](const std::string& what) -> void {
    throw std::invalid_argument(std::string("[") + op + "] " + path + ": member '" + m.name + "' " + what);
  };
  auto buf = std::shared_ptr<allocator::Buffer>(new allocator::Buffer(allocator::malloc(m.size)),
                                                [](allocator::Buffer* b) {
                                                  allocator::free(*b);
                                                  delete b;
                                                });
  auto* dst = static_cast<uint8_t*>(buf->ptr);
  const uint8_t* src = data + m.data_offset;
  if (m.method == 0) {
    if (m.size) std::memcpy(dst, src, m.size);
  } else {
    z_stream zs{};
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) bad("cannot start inflate");
    uint64_t in_left = m.compressed_size, out_left = m.size;
    zs.next_in = const_cast<uint8_t*>(src);
    zs.next_out = dst;
    int rc = Z_OK;
    while (rc == Z_OK) {
      if (zs.avail_in == 0) {
        zs.avail_in = uInt(std::min<uint64_t>(in_left, 1u << 30));
        in_left -= zs.avail_in;
      }
      if (zs.avail_out == 0) {
        zs.avail_out = uInt(std::min<uint64_t>(out_left, 1u << 30));
        out_left -= zs.avail_out;
      }
      uint64_t before = zs.total_in + zs.total_out;
      rc = inflate(&zs, Z_NO_FLUSH);
      if (rc == Z_BUF_ERROR && zs.total_in + zs.total_out == before) break;  // no progress
      if (rc == Z_BUF_ERROR) rc = Z_OK;
    }
    uint64_t produced = zs.total_out;
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || produced != m.size) bad("has corrupt or truncated deflate data");
  }
  if (crc32_of(0, dst, m.size) != m.crc) bad("fails its CRC-32 check");
  return buf;
}

void zip_check_stored(const uint8_t* data, const ZipMember& m, const std::string& path, const char* op) {
  if (crc32_of(0, data + m.data_offset, m.size) != m.crc) {
    throw std::invalid_argument(std::string("[") + op + "] " + path + ": member '" + m.name +
                                "' fails its CRC-32 check");
  }
}

ZipWriter::~ZipWriter() {
  if (zs_) {
    deflateEnd(static_cast<z_stream*>(zs_));
    delete static_cast<z_stream*>(zs_);
  }
}

void ZipWriter::too_large(const std::string& what) {
  throw std::invalid_argument(std::string("[") + op_ + "] " + path_ + ": " + what +
                              " reaches 4 GiB; ZIP64 output is not supported");
}

void ZipWriter::begin(const std::string& name, bool deflate) {
  if (name.size() > 0xffff) throw std::invalid_argument(std::string("[") + op_ + "] member name too long");
  if (entries_.size() >= 0xffff) too_large("the number of members");
  cur_ = Entry{name, uint16_t(deflate ? 8 : 0), 0, 0, 0, out_.position()};
  std::string hdr(30 + name.size(), '\0');  // patched in end()
  out_.write(hdr.data(), hdr.size());
  if (deflate) {
    auto* zs = new z_stream{};
    zs_ = zs;
    if (deflateInit2(zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      throw std::runtime_error(std::string("[") + op_ + "] cannot start deflate");
    }
  }
  open_ = true;
}

void ZipWriter::put_compressed(const void* data, size_t n, bool flush) {
  auto* zs = static_cast<z_stream*>(zs_);
  zs->next_in = static_cast<Bytef*>(const_cast<void*>(data));
  zs->avail_in = uInt(n);
  uint8_t chunk[1 << 16];
  int rc;
  do {
    zs->next_out = chunk;
    zs->avail_out = sizeof(chunk);
    rc = deflate(zs, flush ? Z_FINISH : Z_NO_FLUSH);
    size_t have = sizeof(chunk) - zs->avail_out;
    out_.write(chunk, have);
    cur_.csize += have;
  } while (zs->avail_out == 0 || (flush && rc != Z_STREAM_END));
}

void ZipWriter::write(const void* data, size_t n) {
  auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    size_t chunk = std::min<size_t>(n, 1u << 30);
    cur_.crc = crc32_of(cur_.crc, p, chunk);
    cur_.size += chunk;
    if (zs_) {
      put_compressed(p, chunk, false);
    } else {
      out_.write(p, chunk);
      cur_.csize += chunk;
    }
    p += chunk;
    n -= chunk;
  }
}

void ZipWriter::end() {
  if (zs_) {
    put_compressed(nullptr, 0, true);
    deflateEnd(static_cast<z_stream*>(zs_));
    delete static_cast<z_stream*>(zs_);
    zs_ = nullptr;
  }
  if (cur_.size >= 0xffffffffu || cur_.csize >= 0xffffffffu || cur_.offset >= 0xffffffffu) {
    too_large("member '" + cur_.name + "'");
  }
  std::string h;
  put32(h, kLocalSig);
  put16(h, 20);
  put16(h, utf8_flag(cur_.name));
  put16(h, cur_.method);
  put16(h, 0);  // time
  put16(h, kDosDate);
  put32(h, cur_.crc);
  put32(h, uint32_t(cur_.csize));
  put32(h, uint32_t(cur_.size));
  put16(h, uint16_t(cur_.name.size()));
  put16(h, 0);
  h += cur_.name;
  out_.write_at(cur_.offset, h.data(), h.size());
  entries_.push_back(cur_);
  open_ = false;
}

void ZipWriter::finish() {
  uint64_t cd_offset = out_.position();
  std::string cd;
  for (auto& e : entries_) {
    put32(cd, kCentralSig);
    put16(cd, 20);  // made by
    put16(cd, 20);  // needed
    put16(cd, utf8_flag(e.name));
    put16(cd, e.method);
    put16(cd, 0);
    put16(cd, kDosDate);
    put32(cd, e.crc);
    put32(cd, uint32_t(e.csize));
    put32(cd, uint32_t(e.size));
    put16(cd, uint16_t(e.name.size()));
    put16(cd, 0);  // extra
    put16(cd, 0);  // comment
    put16(cd, 0);  // disk
    put16(cd, 0);  // internal attributes
    put32(cd, 0);  // external attributes
    put32(cd, uint32_t(e.offset));
    cd += e.name;
  }
  uint64_t cd_size = cd.size();
  if (cd_offset + cd_size >= 0xffffffffu) too_large("the archive");
  put32(cd, kEndSig);
  put16(cd, 0);
  put16(cd, 0);
  put16(cd, uint16_t(entries_.size()));
  put16(cd, uint16_t(entries_.size()));
  put32(cd, uint32_t(cd_size));
  put32(cd, uint32_t(cd_offset));
  put16(cd, 0);
  out_.write(cd.data(), cd.size());
}

}  // namespace uma::io
