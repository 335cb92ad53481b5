#include "uma/text/jinja/unicode.h"

#include <utf8proc.h>

namespace uma::text::jinja::unicode {

namespace {

bool cont(unsigned char b) { return (b & 0xC0) == 0x80; }

utf8proc_category_t category(char32_t c) {
  if (c > 0x10FFFF) return UTF8PROC_CATEGORY_CN;
  return utf8proc_category(static_cast<utf8proc_int32_t>(c));
}

bool is_cat(char32_t c, std::initializer_list<utf8proc_category_t> cats) {
  auto k = category(c);
  for (auto x : cats)
    if (k == x) return true;
  return false;
}

}  // namespace

char32_t decode(std::string_view s, size_t& i) {
  auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  size_t n = s.size() - i;
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  if (b0 >= 0xC2 && b0 <= 0xDF && n >= 2 && cont(at(1))) {
    char32_t c = ((b0 & 0x1F) << 6) | (at(1) & 0x3F);
    i += 2;
    return c;
  }
  if (b0 >= 0xE0 && b0 <= 0xEF && n >= 3 && cont(at(1)) && cont(at(2))) {
    unsigned char b1 = at(1);
    bool ok = !(b0 == 0xE0 && b1 < 0xA0) && !(b0 == 0xED && b1 > 0x9F);
    if (ok) {
      char32_t c = ((b0 & 0x0F) << 12) | ((b1 & 0x3F) << 6) | (at(2) & 0x3F);
      i += 3;
      return c;
    }
  }
  if (b0 >= 0xF0 && b0 <= 0xF4 && n >= 4 && cont(at(1)) && cont(at(2)) && cont(at(3))) {
    unsigned char b1 = at(1);
    bool ok = !(b0 == 0xF0 && b1 < 0x90) && !(b0 == 0xF4 && b1 > 0x8F);
    if (ok) {
      char32_t c = ((b0 & 0x07) << 18) | ((b1 & 0x3F) << 12) | ((at(2) & 0x3F) << 6) | (at(3) & 0x3F);
      i += 4;
      return c;
    }
  }
  ++i;
  return 0xDC00 + b0;  // invalid byte, kept losslessly
}

void append(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c >= 0xDC80 && c <= 0xDCFF) {
    out.push_back(static_cast<char>(c - 0xDC00));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c <= 0x10FFFF) {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    append(out, 0xFFFD);
  }
}

std::u32string to_u32(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) out.push_back(decode(s, i));
  return out;
}

std::string to_utf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) append(out, c);
  return out;
}

bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

size_t length(std::string_view s) {
  if (is_ascii(s)) return s.size();
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++n) decode(s, i);
  return n;
}

std::vector<size_t> offsets(std::string_view s) {
  std::vector<size_t> out;
  out.reserve(s.size() + 1);
  for (size_t i = 0; i < s.size();) {
    out.push_back(i);
    decode(s, i);
  }
  out.push_back(s.size());
  return out;
}

bool is_space(char32_t c) {
  switch (c) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D:
    case 0x1C: case 0x1D: case 0x1E: case 0x1F: case 0x20:
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
    case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

bool is_linebreak(char32_t c) {
  switch (c) {
    case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x1C: case 0x1D:
    case 0x1E: case 0x85: case 0x2028: case 0x2029:
      return true;
    default:
      return false;
  }
}

bool is_alpha(char32_t c) {
  if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
  return is_cat(c, {UTF8PROC_CATEGORY_LU, UTF8PROC_CATEGORY_LL, UTF8PROC_CATEGORY_LT,
                    UTF8PROC_CATEGORY_LM, UTF8PROC_CATEGORY_LO});
}

bool is_decimal(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  return category(c) == UTF8PROC_CATEGORY_ND;
}

bool is_digit(char32_t c) {
  if (is_decimal(c)) return true;
  // Superscript, subscript and circled digits have Numeric_Type=Digit.
  return c == 0xB2 || c == 0xB3 || c == 0xB9 || c == 0x2070 || (c >= 0x2074 && c <= 0x2079) ||
         (c >= 0x2080 && c <= 0x2089) || (c >= 0x2460 && c <= 0x2468) ||
         (c >= 0x2474 && c <= 0x247C) || (c >= 0x2488 && c <= 0x2490) || c == 0x24EA ||
         (c >= 0x24F5 && c <= 0x24FD) || (c >= 0x2776 && c <= 0x277E) ||
         (c >= 0x2780 && c <= 0x2788) || (c >= 0x278A && c <= 0x2792);
}

bool is_numeric(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  if (is_cat(c, {UTF8PROC_CATEGORY_ND, UTF8PROC_CATEGORY_NL, UTF8PROC_CATEGORY_NO})) return true;
  // Common CJK numerals (Lo with a numeric value).
  static const char32_t cjk[] = {0x3007, 0x4E00, 0x4E8C, 0x4E09, 0x56DB, 0x4E94, 0x516D, 0x4E03,
                                 0x516B, 0x4E5D, 0x5341, 0x767E, 0x5343, 0x4E07, 0x5104, 0x96F6};
  for (char32_t x : cjk)
    if (c == x) return true;
  return false;
}

bool is_upper(char32_t c) {
  if (c < 0x80) return c >= 'A' && c <= 'Z';
  return category(c) == UTF8PROC_CATEGORY_LU;
}

bool is_lower(char32_t c) {
  if (c < 0x80) return c >= 'a' && c <= 'z';
  return category(c) == UTF8PROC_CATEGORY_LL;
}

bool is_title(char32_t c) { return c >= 0x80 && category(c) == UTF8PROC_CATEGORY_LT; }

bool is_cased(char32_t c) { return is_upper(c) || is_lower(c) || is_title(c); }

bool is_printable(char32_t c) {
  if (c == ' ') return true;
  if (c < 0x80) return c > 0x20 && c < 0x7F;
  return !is_cat(c, {UTF8PROC_CATEGORY_CC, UTF8PROC_CATEGORY_CF, UTF8PROC_CATEGORY_CS,
                     UTF8PROC_CATEGORY_CO, UTF8PROC_CATEGORY_CN, UTF8PROC_CATEGORY_ZL,
                     UTF8PROC_CATEGORY_ZP, UTF8PROC_CATEGORY_ZS});
}

bool is_word(char32_t c) {
  return c == '_' || is_alpha(c) || is_decimal(c) || is_digit(c) || is_numeric(c);
}

bool is_identifier_char(char32_t c) {
  return is_word(c) || c == 0xB7 ||
         is_cat(c, {UTF8PROC_CATEGORY_MN, UTF8PROC_CATEGORY_MC, UTF8PROC_CATEGORY_PC});
}

// Case mappings: utf8proc's simple mappings plus the unconditional
// SpecialCasing entries that templates might plausibly meet.
void append_upper(std::u32string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(c >= 'a' && c <= 'z' ? c - 32 : c);
    return;
  }
  switch (c) {
    case 0xDF: out += U"SS"; return;
    case 0x149: out += U"\u02BCN"; return;
    case 0xFB00: out += U"FF"; return;
    case 0xFB01: out += U"FI"; return;
    case 0xFB02: out += U"FL"; return;
    case 0xFB03: out += U"FFI"; return;
    case 0xFB04: out += U"FFL"; return;
    case 0xFB05: case 0xFB06: out += U"ST"; return;
    default: break;
  }
  if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
    out.push_back(c);
    return;
  }
  out.push_back(static_cast<char32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(c))));
}

void append_lower(std::u32string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return;
  }
  if (c == 0x130) {
    out += U"i\u0307";
    return;
  }
  if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
    out.push_back(c);
    return;
  }
  out.push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
}

void append_title(std::u32string& out, char32_t c) {
  if (c < 0x80) {
    append_upper(out, c);
    return;
  }
  switch (c) {
    case 0xDF: out += U"Ss"; return;
    case 0xFB00: out += U"Ff"; return;
    case 0xFB01: out += U"Fi"; return;
    case 0xFB02: out += U"Fl"; return;
    case 0xFB03: out += U"Ffi"; return;
    case 0xFB04: out += U"Ffl"; return;
    case 0xFB05: case 0xFB06: out += U"St"; return;
    default: break;
  }
  if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
    out.push_back(c);
    return;
  }
  out.push_back(static_cast<char32_t>(utf8proc_totitle(static_cast<utf8proc_int32_t>(c))));
}

namespace {

// Greek capital sigma lowers to final sigma at the end of a word.
bool final_sigma(const std::u32string& s, size_t i) {
  bool before = false;
  for (size_t j = i; j-- > 0;) {
    if (is_cased(s[j])) {
      before = true;
      break;
    }
    if (s[j] != '\'' && s[j] != 0x2019 && s[j] != 0xB7) break;
  }
  if (!before) return false;
  for (size_t j = i + 1; j < s.size(); ++j) {
    if (is_cased(s[j])) return false;
    if (s[j] != '\'' && s[j] != 0x2019 && s[j] != 0xB7) break;
  }
  return true;
}

}  // namespace

std::string upper(std::string_view s) {
  if (is_ascii(s)) {
    std::string out(s);
    for (char& c : out)
      if (c >= 'a' && c <= 'z') c -= 32;
    return out;
  }
  std::u32string out;
  for (char32_t c : to_u32(s)) append_upper(out, c);
  return to_utf8(out);
}

std::string lower(std::string_view s) {
  if (is_ascii(s)) {
    std::string out(s);
    for (char& c : out)
      if (c >= 'A' && c <= 'Z') c += 32;
    return out;
  }
  std::u32string in = to_u32(s), out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == 0x3A3 && final_sigma(in, i))
      out.push_back(0x3C2);
    else
      append_lower(out, in[i]);
  }
  return to_utf8(out);
}

std::string casefold(std::string_view s) {
  std::u32string out;
  for (char32_t c : to_u32(s)) {
    if (c == 0xDF) {
      out += U"ss";
      continue;
    }
    std::u32string tmp;
    append_lower(tmp, c);
    out += tmp;
  }
  return to_utf8(out);
}

std::string swapcase(std::string_view s) {
  std::u32string out;
  for (char32_t c : to_u32(s)) {
    if (is_upper(c))
      append_lower(out, c);
    else if (is_lower(c))
      append_upper(out, c);
    else
      out.push_back(c);
  }
  return to_utf8(out);
}

std::string title(std::string_view s) {
  std::u32string out;
  bool prev_cased = false;
  for (char32_t c : to_u32(s)) {
    if (prev_cased)
      append_lower(out, c);
    else
      append_title(out, c);
    prev_cased = is_cased(c);
  }
  return to_utf8(out);
}

std::string capitalize(std::string_view s) {
  std::u32string in = to_u32(s), out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (i == 0)
      append_title(out, in[i]);
    else if (in[i] == 0x3A3 && final_sigma(in, i))
      out.push_back(0x3C2);
    else
      append_lower(out, in[i]);
  }
  return to_utf8(out);
}

}  // namespace uma::text::jinja::unicode
