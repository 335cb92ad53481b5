// String literal escapes, decoded as Jinja2 does it: the literal text goes
// through Python's .encode("ascii", "backslashreplace").decode("unicode-escape").
#include <cstdio>

#include "uma/text/jinja/lexer.h"
#include "uma/text/jinja/unicode.h"

namespace uma::text::jinja {

namespace {

bool hex_value(std::string_view s, size_t at, int n, uint32_t& v) {
  v = 0;
  for (int k = 0; k < n; ++k) {
    if (at + k >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[at + k]))) return false;
    char c = s[at + k];
    v = v * 16 + (c >= '0' && c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  }
  return true;
}

// The backslashreplace form of a non-ASCII code point (\xNN, \uNNNN, \UNNNNNNNN).
std::string backslash_form(char32_t cp) {
  char buf[16];
  if (cp < 0x100) std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(cp));
  else if (cp < 0x10000) std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
  else std::snprintf(buf, sizeof buf, "\\U%08x", static_cast<unsigned>(cp));
  return buf;
}

}  // namespace

bool unescape_string(std::string_view s, std::string& out, std::string& error) {
  out.clear();
  for (size_t i = 0; i < s.size();) {
    if (s[i] != '\\') {
      size_t j = i;
      unicode::decode(s, j);
      out.append(s.substr(i, j - i));
      i = j;
      continue;
    }
    char c = i + 1 < s.size() ? s[i + 1] : 0;
    i += 2;
    uint32_t v = 0;
    switch (c) {
      case '\n': break;
      case '\\': out.push_back('\\'); break;
      case '\'': out.push_back('\''); break;
      case '"': out.push_back('"'); break;
      case 'a': out.push_back('\a'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'v': out.push_back('\v'); break;
      case 'x': case 'u': case 'U': {
        int n = c == 'x' ? 2 : c == 'u' ? 4 : 8;
        if (!hex_value(s, i, n, v)) {
          error = c == 'x' ? "truncated \\xXX escape" : c == 'u' ? "truncated \\uXXXX escape" : "truncated \\UXXXXXXXX escape";
          return false;
        }
        if (v > 0x10FFFF) {
          error = "illegal Unicode character";
          return false;
        }
        unicode::append(out, v);
        i += n;
        break;
      }
      case 'N':
        error = "unknown Unicode character name";
        return false;
      default:
        if (c >= '0' && c <= '7') {
          v = c - '0';
          for (int k = 0; k < 2 && i < s.size() && s[i] >= '0' && s[i] <= '7'; ++k) v = v * 8 + (s[i++] - '0');
          unicode::append(out, v);
        } else if (static_cast<unsigned char>(c) >= 0x80) {
          // The backslash escapes the backslash of backslashreplace's form.
          size_t j = i - 1;
          char32_t cp = unicode::decode(s, j);
          out += backslash_form(cp);
          i = j;
        } else {
          out.push_back('\\');
          out.push_back(c);
        }
    }
  }
  return true;
}

}  // namespace uma::text::jinja
