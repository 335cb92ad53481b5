// A small PNG reader for the tests that check screenshots: every chunk's
// CRC, the header, and the pixels of 8-bit RGB/RGBA non-interlaced images
// (what Chromium writes), inflated with zlib and unfiltered.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace uma::cli::testing {

struct Png {
  uint32_t width = 0, height = 0;
  int channels = 0;            // 3 (RGB) or 4 (RGBA)
  std::vector<uint8_t> pixels;  // height rows of width * channels bytes
};

// Throws std::runtime_error naming what is wrong with `bytes` as a PNG.
inline Png read_png(const std::string& bytes) {
  auto u32 = [&](size_t at) {
    if (at + 4 > bytes.size()) throw std::runtime_error("PNG: truncated at byte " + std::to_string(at));
    auto b = [&](size_t i) { return uint32_t(uint8_t(bytes[at + i])); };
    return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
  };
  if (bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) throw std::runtime_error("PNG: no signature");
  Png png;
  int depth = 0, color = -1, interlace = -1;
  std::string idat;
  bool ended = false;
  for (size_t at = 8; !ended;) {
    const uint32_t len = u32(at);
    if (len > bytes.size() || at + 12 + len > bytes.size()) throw std::runtime_error("PNG: chunk past the end");
    const std::string type = bytes.substr(at + 4, 4);
    const auto* typed = reinterpret_cast<const Bytef*>(bytes.data() + at + 4);
    if (crc32(0, typed, 4 + len) != u32(at + 8 + len)) throw std::runtime_error("PNG: bad CRC in " + type);
    const std::string data = bytes.substr(at + 8, len);
    if (type == "IHDR") {
      if (len != 13) throw std::runtime_error("PNG: IHDR is not 13 bytes");
      png.width = u32(at + 8), png.height = u32(at + 12);
      depth = uint8_t(data[8]), color = uint8_t(data[9]), interlace = uint8_t(data[12]);
    } else if (type == "IDAT") {
      idat += data;
    }
    ended = type == "IEND";
    at += 12 + len;
  }
  if (depth != 8 || (color != 2 && color != 6) || interlace != 0)
    throw std::runtime_error("PNG: only 8-bit RGB/RGBA without interlace is read here");
  png.channels = color == 2 ? 3 : 4;
  const size_t stride = size_t(png.width) * png.channels;
  std::vector<uint8_t> raw((stride + 1) * png.height);
  uLongf raw_len = raw.size();
  if (uncompress(raw.data(), &raw_len, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) != Z_OK ||
      raw_len != raw.size())
    throw std::runtime_error("PNG: the image data does not inflate to its rows");
  // Undo each row's filter (PNG spec section 9), left to right.
  png.pixels.resize(stride * png.height);
  const int bpp = png.channels;
  for (size_t y = 0; y < png.height; ++y) {
    const uint8_t filter = raw[y * (stride + 1)];
    const uint8_t* in = &raw[y * (stride + 1) + 1];
    uint8_t* row = &png.pixels[y * stride];
    const uint8_t* up = y ? row - stride : nullptr;
    for (size_t x = 0; x < stride; ++x) {
      const int a = x >= size_t(bpp) ? row[x - bpp] : 0, b = up ? up[x] : 0;
      const int c = up && x >= size_t(bpp) ? up[x - bpp] : 0;
      int pred = 0;
      switch (filter) {
        case 0: break;
        case 1: pred = a; break;
        case 2: pred = b; break;
        case 3: pred = (a + b) / 2; break;
        case 4: {
          const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: throw std::runtime_error("PNG: unknown filter " + std::to_string(filter));
      }
      row[x] = uint8_t(in[x] + pred);
    }
  }
  return png;
}

}  // namespace uma::cli::testing
