// UTF-8 helpers of the grammar engine (strict: no overlongs, no surrogates).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace uma::text::grammar {

inline void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

// Decodes the first character of s; false for invalid or truncated UTF-8.
inline bool utf8_decode(std::string_view s, uint32_t* cp, size_t* len) {
  if (s.empty()) return false;
  auto b = [&](size_t i) { return uint8_t(s[i]); };
  uint8_t c = b(0);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || s.size() < n) return false;
  uint32_t v = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t i = 1; i < n; ++i) {
    if ((b(i) & 0xC0) != 0x80) return false;
    v = (v << 6) | (b(i) & 0x3F);
  }
  static const uint32_t min_of[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (v < min_of[n] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return false;
  *cp = v;
  *len = n;
  return true;
}

// One byte of UTF-8 after `need` continuation bytes were still expected of a
// `length`-byte character whose bits so far are `partial`.
struct Utf8Byte {
  enum Kind { refused, ascii, begun, complete } kind = refused;
  uint32_t bits = 0;        // the code point (complete, ascii) or its bits so far
  uint8_t need = 0, length = 0;
  uint32_t lo = 0, hi = 0;  // begun: the code points the character may still become
};

inline Utf8Byte utf8_byte(uint32_t partial, uint8_t need, uint8_t length, uint8_t b) {
  static const uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  Utf8Byte r;
  if (need == 0) {
    if (b < 0x80) {
      r.kind = Utf8Byte::ascii;
      r.bits = b;
      return r;
    }
    length = (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (length == 0) return r;
    r.bits = length == 2 ? (b & 0x1F) : length == 3 ? (b & 0x0F) : (b & 0x07);
    r.need = uint8_t(length - 1);
  } else {
    if ((b & 0xC0) != 0x80) return r;
    r.bits = (partial << 6) | (b & 0x3F);
    r.need = uint8_t(need - 1);
  }
  r.length = length;
  if (r.need == 0) {
    if (r.bits < kMin[length] || (r.bits >= 0xD800 && r.bits <= 0xDFFF)) return r;
    r.kind = Utf8Byte::complete;
    return r;
  }
  uint32_t shift = 6 * uint32_t(r.need);
  r.lo = std::max(r.bits << shift, kMin[length]);
  r.hi = std::min(((r.bits + 1) << shift) - 1, 0x10FFFFu);
  // A range of surrogates only can never complete a character.
  if (r.lo <= r.hi && !(r.lo >= 0xD800 && r.hi <= 0xDFFF)) r.kind = Utf8Byte::begun;
  return r;
}

}  // namespace uma::text::grammar
