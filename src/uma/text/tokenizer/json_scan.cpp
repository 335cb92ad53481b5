#include "uma/text/tokenizer/json_scan.h"

#include <charconv>
#if defined(__AVX2__)
#include <immintrin.h>
#endif
#include <cstring>
#include <stdexcept>

#include "uma/text/tokenizer/unicode.h"

namespace uma::text::tokenizer {

void JsonScanner::fail(const std::string& message) const {
  throw std::invalid_argument("[tokenizer] malformed JSON in " + what_ + " at byte " +
                              std::to_string(i_) + ": " + message);
}

void JsonScanner::expect(char c) {
  if (!consume(c)) {
    char got = i_ < s_.size() ? s_[i_] : '\0';
    fail(std::string("expected '") + c + "', found " +
         (got ? std::string("'") + got + "'" : std::string("end of input")));
  }
}

std::string_view JsonScanner::parse_string(std::string& scratch) {
  if (peek() != '"') fail("expected a string");
  size_t start = ++i_;
  // Fast path: no escapes.
  const char* p = s_.data() + i_;
  const char* end = s_.data() + s_.size();
  while (p < end && *p != '"' && *p != '\\') {
    if (static_cast<unsigned char>(*p) < 0x20) {
      i_ = p - s_.data();
      fail("control character in string");
    }
    ++p;
  }
  if (p >= end) {
    i_ = s_.size();
    fail("unterminated string");
  }
  if (*p == '"') {
    i_ = p - s_.data() + 1;
    return s_.substr(start, (p - s_.data()) - start);
  }
  scratch.assign(s_.data() + start, p - (s_.data() + start));
  i_ = p - s_.data();
  while (true) {
    if (i_ >= s_.size()) fail("unterminated string");
    char c = s_[i_];
    if (c == '"') {
      ++i_;
      return scratch;
    }
    if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
    if (c != '\\') {
      scratch.push_back(c);
      ++i_;
      continue;
    }
    if (i_ + 1 >= s_.size()) fail("unterminated escape");
    char e = s_[i_ + 1];
    i_ += 2;
    switch (e) {
      case '"': scratch.push_back('"'); break;
      case '\\': scratch.push_back('\\'); break;
      case '/': scratch.push_back('/'); break;
      case 'b': scratch.push_back('\b'); break;
      case 'f': scratch.push_back('\f'); break;
      case 'n': scratch.push_back('\n'); break;
      case 'r': scratch.push_back('\r'); break;
      case 't': scratch.push_back('\t'); break;
      case 'u': {
        auto read4 = [&]() -> uint32_t {
          if (i_ + 4 > s_.size()) fail("truncated \\u escape");
          uint32_t v = 0;
          for (int k = 0; k < 4; ++k) {
            int h = unicode::hex_digit(s_[i_ + k]);
            if (h < 0) fail("bad \\u escape");
            v = v * 16 + h;
          }
          i_ += 4;
          return v;
        };
        uint32_t cp = read4();
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (i_ + 2 <= s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u') {
            i_ += 2;
            uint32_t lo = read4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else {
            fail("unpaired surrogate");
          }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          fail("unpaired surrogate");
        }
        unicode::append_utf8(scratch, cp);
        break;
      }
      default:
        fail(std::string("bad escape '\\") + e + "'");
    }
  }
}

int64_t JsonScanner::parse_int() {
  skip_ws();
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s_.data() + i_, s_.data() + s_.size(), v);
  if (ec != std::errc() || ptr == s_.data() + i_) fail("expected an integer");
  i_ = ptr - s_.data();
  if (i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) {
    fail("expected an integer, found a fraction");
  }
  return v;
}

double JsonScanner::parse_double() {
  skip_ws();
  double v = 0;
  auto [ptr, ec] = std::from_chars(s_.data() + i_, s_.data() + s_.size(), v);
  if (ec != std::errc() || ptr == s_.data() + i_) fail("expected a number");
  i_ = ptr - s_.data();
  return v;
}

void JsonScanner::skip_string() {
  ++i_;  // opening quote
  while (i_ < s_.size()) {
    const void* q = std::memchr(s_.data() + i_, '"', s_.size() - i_);
    if (q == nullptr) break;
    size_t j = static_cast<const char*>(q) - s_.data();
    // Count the backslashes before the quote.
    size_t k = j;
    while (k > i_ && s_[k - 1] == '\\') --k;
    i_ = j + 1;
    if ((j - k) % 2 == 0) return;
  }
  fail("unterminated string");
}

namespace {

// Offset of the next byte of `s` (from `i`) that is a quote or a bracket.
size_t next_structural(std::string_view s, size_t i) {
#if defined(__AVX2__)
  const __m256i q = _mm256_set1_epi8('"'), ob = _mm256_set1_epi8('['), cb = _mm256_set1_epi8(']'),
                oc = _mm256_set1_epi8('{'), cc = _mm256_set1_epi8('}');
  while (i + 32 <= s.size()) {
    __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s.data() + i));
    __m256i m = _mm256_or_si256(
        _mm256_or_si256(_mm256_cmpeq_epi8(v, q), _mm256_cmpeq_epi8(v, ob)),
        _mm256_or_si256(_mm256_cmpeq_epi8(v, cb),
                        _mm256_or_si256(_mm256_cmpeq_epi8(v, oc), _mm256_cmpeq_epi8(v, cc))));
    auto bits = static_cast<uint32_t>(_mm256_movemask_epi8(m));
    if (bits != 0) return i + static_cast<size_t>(__builtin_ctz(bits));
    i += 32;
  }
#endif
  while (i < s.size()) {
    char c = s[i];
    if (c == '"' || c == '[' || c == ']' || c == '{' || c == '}') return i;
    ++i;
  }
  return i;
}

}  // namespace

std::string_view JsonScanner::skip_value() {
  skip_ws();
  size_t start = i_;
  if (i_ >= s_.size()) fail("unexpected end of input");
  char c0 = s_[i_];
  if (c0 == '"') {
    skip_string();
    return s_.substr(start, i_ - start);
  }
  if (c0 != '{' && c0 != '[') {
    // Scalar: run to the next delimiter.
    while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != '}' && s_[i_] != ']' && s_[i_] != ' ' &&
           s_[i_] != '\n' && s_[i_] != '\r' && s_[i_] != '\t') {
      ++i_;
    }
    if (i_ == start) fail("expected a value");
    return s_.substr(start, i_ - start);
  }
  int depth = 0;
  do {
    i_ = next_structural(s_, i_);
    if (i_ >= s_.size()) fail("unexpected end of input");
    char c = s_[i_];
    if (c == '"') {
      skip_string();
    } else if (c == '{' || c == '[') {
      ++depth;
      ++i_;
    } else {
      --depth;
      ++i_;
    }
  } while (depth > 0);
  return s_.substr(start, i_ - start);
}

}  // namespace uma::text::tokenizer
