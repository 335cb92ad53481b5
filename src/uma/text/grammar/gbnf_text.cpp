#include "uma/text/grammar/gbnf_text.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "uma/text/grammar/char_ranges.h"
#include "uma/text/grammar/utf8.h"

namespace uma::text::grammar {

namespace {

void append_escaped(std::string& out, uint32_t cp, bool in_class) {
  if (cp == '\n') { out += "\\n"; return; }
  if (cp == '\r') { out += "\\r"; return; }
  if (cp == '\t') { out += "\\t"; return; }
  if (cp == '\\' || cp == '"' || (in_class && (cp == ']' || cp == '-' || cp == '^' || cp == '['))) {
    out += '\\';
    out += char(cp);
    return;
  }
  if (cp < 0x20 || cp >= 0x7F) {  // printed grammars stay ASCII
    static const char* hex = "0123456789ABCDEF";
    int digits = cp < 0x100 ? 2 : cp < 0x10000 ? 4 : 8;
    out += digits == 2 ? "\\x" : digits == 4 ? "\\u" : "\\U";
    for (int i = digits - 1; i >= 0; --i) out += hex[(cp >> (4 * i)) & 15];
    return;
  }
  out += char(cp);
}

constexpr int64_t kMaxMagnitude = 9999999999999999;  // 16 digits, as llama.cpp bounds unbounded integers

// Integers of equal digit count, x <= y (decimal strings).
std::string same_length(const std::string& x, const std::string& y) {
  if (x.empty()) return "";
  if (x == y) return gbnf_literal(x);
  size_t rest = x.size() - 1;
  std::string tail_x = x.substr(1), tail_y = y.substr(1);
  auto any = [&](size_t n) { return n ? " [0-9]{" + std::to_string(n) + "}" : std::string(); };
  if (x[0] == y[0]) return gbnf_literal(x.substr(0, 1)) + " " + same_length(tail_x, tail_y);
  bool low_full = tail_x.find_first_not_of('0') == std::string::npos;
  bool high_full = tail_y.find_first_not_of('9') == std::string::npos;
  std::vector<std::string> parts;
  char lo = low_full ? x[0] : char(x[0] + 1), hi = high_full ? y[0] : char(y[0] - 1);
  if (!low_full) parts.push_back(gbnf_literal(x.substr(0, 1)) + " " + same_length(tail_x, std::string(rest, '9')));
  if (lo <= hi) parts.push_back(std::string("[") + lo + "-" + hi + "]" + any(rest));
  if (!high_full) parts.push_back(gbnf_literal(y.substr(0, 1)) + " " + same_length(std::string(rest, '0'), tail_y));
  std::string out = "(";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? " | " : "") + parts[i];
  return out + ")";
}

// Non-negative integers in [a, b].
std::string magnitude_range(int64_t a, int64_t b) {
  std::vector<std::string> parts;
  int64_t low = 0, high = 9;  // the integers of the current digit count
  for (int digits = 1; digits <= 16 && low <= b; ++digits) {
    if (high >= a) {
      parts.push_back(same_length(std::to_string(std::max(a, low)), std::to_string(std::min(b, high))));
    }
    low = digits == 1 ? 10 : low * 10;
    high = high * 10 + 9;
  }
  std::string out = "(";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? " | " : "") + parts[i];
  return out + ")";
}

// The JSON string form of one character (escaped where JSON must).
std::string json_char(uint32_t cp) {
  std::string s;
  switch (cp) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '\b': return "\\b";
    case '\f': return "\\f";
    default: break;
  }
  if (cp < 0x20) {
    static const char* hex = "0123456789abcdef";
    return std::string("\\u00") + hex[cp >> 4] + hex[cp & 15];
  }
  utf8_append(s, cp);
  return s;
}

// ECMA-262 regular expression -> GBNF over JSON string contents.
class RegexTranslator {
 public:
  explicit RegexTranslator(std::string_view p) : p_(p) {}

  std::string translate() {
    bool start = pos_ < p_.size() && p_[pos_] == '^';
    if (start) ++pos_;
    std::string body = alternatives(0);
    if (pos_ < p_.size()) fail("unexpected ')'");
    std::string out = "(" + body + ")";
    if (!start) out = "char* " + out;
    if (!end_anchor_) out += " char*";
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument("[pattern] at offset " + std::to_string(pos_) + " of /" + std::string(p_) + "/: " +
                                what);
  }

  uint32_t next_cp() {
    uint32_t cp = 0;
    size_t n = 0;
    if (!utf8_decode(p_.substr(pos_), &cp, &n)) fail("invalid UTF-8");
    pos_ += n;
    return cp;
  }

  std::string alternatives(int depth) {
    if (depth > 64) fail("groups nested deeper than 64");
    std::string out = sequence(depth);
    while (pos_ < p_.size() && p_[pos_] == '|') {
      ++pos_;
      out += " | " + sequence(depth);
    }
    return out;
  }

  std::string sequence(int depth) {
    std::string out;
    while (pos_ < p_.size() && p_[pos_] != '|' && p_[pos_] != ')') {
      if (p_[pos_] == '$') {
        ++pos_;
        if (pos_ != p_.size()) fail("'$' is only supported at the end");
        end_anchor_ = true;
        break;
      }
      std::string a = atom(depth);
      if (!out.empty()) out += ' ';
      out += quantified(a);
    }
    return out.empty() ? "\"\"" : out;
  }

  std::string quantified(const std::string& a) {
    if (pos_ >= p_.size()) return a;
    char c = p_[pos_];
    std::string q;
    if (c == '*' || c == '+' || c == '?') {
      q = std::string(1, c);
      ++pos_;
    } else if (c == '{') {
      size_t close = p_.find('}', pos_);
      if (close == std::string_view::npos) fail("unclosed '{'");
      std::string_view inner = p_.substr(pos_ + 1, close - pos_ - 1);
      if (inner.empty() || inner.find_first_not_of("0123456789,") != std::string_view::npos || inner[0] == ',') {
        fail("bad quantifier {" + std::string(inner) + "}");
      }
      q = "{";
      q += inner;
      q += '}';
      pos_ = close + 1;
    } else {
      return a;
    }
    if (pos_ < p_.size() && p_[pos_] == '?') ++pos_;  // lazy: the same language
    if (pos_ < p_.size() && (p_[pos_] == '*' || p_[pos_] == '+' || p_[pos_] == '{')) fail("nothing to repeat");
    return "(" + a + ")" + q;
  }

  std::string atom(int depth) {
    char c = p_[pos_];
    if (c == '(') {
      ++pos_;
      if (p_.substr(pos_, 2) == "?:") {
        pos_ += 2;
      } else if (pos_ < p_.size() && p_[pos_] == '?') {
        fail("lookarounds and named groups are not supported");
      }
      std::string inner = alternatives(depth + 1);
      if (pos_ >= p_.size() || p_[pos_] != ')') fail("unclosed '('");
      ++pos_;
      return "(" + inner + ")";
    }
    if (c == '[') return char_class();
    if (c == '.') {
      ++pos_;
      return from_ranges(negate_ranges(normalize_ranges({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}})));
    }
    if (c == '*' || c == '+' || c == '?' || c == '{') fail("nothing to repeat");
    if (c == '^') fail("'^' is only supported at the start");
    Ranges r;
    if (c == '\\') {
      r = escape(false);
    } else {
      uint32_t cp = next_cp();
      r = {{cp, cp}};
    }
    return from_ranges(r);
  }

  // After '\': the class it stands for.
  Ranges escape(bool in_class) {
    ++pos_;
    if (pos_ >= p_.size()) fail("unfinished escape");
    char e = p_[pos_++];
    static const Ranges digit = {{'0', '9'}};
    static const Ranges word = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
    static const Ranges space = normalize_ranges({{'\t', '\r'}, {' ', ' '}, {0xA0, 0xA0}, {0x1680, 0x1680},
                                                  {0x2000, 0x200A}, {0x2028, 0x2029}, {0x202F, 0x202F},
                                                  {0x205F, 0x205F}, {0x3000, 0x3000}, {0xFEFF, 0xFEFF}});
    switch (e) {
      case 'd': return digit;
      case 'D': return negate_ranges(digit);
      case 'w': return word;
      case 'W': return negate_ranges(word);
      case 's': return space;
      case 'S': return negate_ranges(space);
      case 'n': return {{'\n', '\n'}};
      case 'r': return {{'\r', '\r'}};
      case 't': return {{'\t', '\t'}};
      case 'f': return {{'\f', '\f'}};
      case 'v': return {{'\v', '\v'}};
      case '0': return {{0, 0}};
      case 'x': case 'u': {
        size_t n = e == 'x' ? 2 : 4;
        if (pos_ + n > p_.size()) fail("unfinished \\" + std::string(1, e) + " escape");
        uint32_t v = 0;
        for (size_t i = 0; i < n; ++i) {
          char h = p_[pos_++];
          int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
          if (d < 0) fail("bad hex digit");
          v = v * 16 + uint32_t(d);
        }
        if (v >= 0xD800 && v <= 0xDFFF) fail("surrogate escapes are not supported");
        return {{v, v}};
      }
      case 'b':
        if (in_class) return {{'\b', '\b'}};
        fail("word boundaries (\\b) are not supported");
      default:
        if ((e >= '1' && e <= '9') || e == 'k') fail("backreferences are not supported");
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z')) fail(std::string("unknown escape \\") + e);
        return {{uint32_t(uint8_t(e)), uint32_t(uint8_t(e))}};
    }
  }

  std::string char_class() {
    ++pos_;
    bool neg = pos_ < p_.size() && p_[pos_] == '^';
    if (neg) ++pos_;
    Ranges r;
    auto class_atom = [&]() -> Ranges {
      if (p_[pos_] == '\\') return escape(true);
      uint32_t cp = next_cp();
      return {{cp, cp}};
    };
    auto single = [](const Ranges& x) { return x.size() == 1 && x[0].first == x[0].second; };
    while (pos_ < p_.size() && p_[pos_] != ']') {
      Ranges lo = class_atom();
      if (single(lo) && pos_ + 1 < p_.size() && p_[pos_] == '-' && p_[pos_ + 1] != ']') {
        ++pos_;
        Ranges hi = class_atom();
        if (!single(hi)) fail("a class escape cannot end a range");
        if (hi[0].first < lo[0].first) fail("range out of order in class");
        r.emplace_back(lo[0].first, hi[0].first);
      } else {
        r.insert(r.end(), lo.begin(), lo.end());
      }
    }
    if (pos_ >= p_.size()) fail("unclosed '['");
    ++pos_;
    r = normalize_ranges(r);
    if (neg) r = negate_ranges(r);
    return from_ranges(r);
  }

  // A set of characters as JSON string contents: the ones JSON writes raw
  // in a class, each escaped one as its own literal.
  std::string from_ranges(const Ranges& r) {
    if (r.empty()) fail("a class that matches nothing");
    Ranges raw;
    std::vector<std::string> parts;
    for (auto [lo, hi] : r) {
      for (uint32_t cp = lo; cp <= hi && cp < 0x20; ++cp) parts.push_back(gbnf_literal(json_char(cp)));
      if (lo <= '"' && '"' <= hi) parts.push_back(gbnf_literal("\\\""));
      if (lo <= '\\' && '\\' <= hi) parts.push_back(gbnf_literal("\\\\"));
      for (auto [a, b] : Ranges{{0x20, '"' - 1}, {'"' + 1, '\\' - 1}, {'\\' + 1, kMaxCodePoint}}) {
        uint32_t x = std::max(lo, a), y = std::min(hi, b);
        if (x <= y) raw.emplace_back(x, y);
      }
    }
    if (raw.size() == 1 && raw[0].first == raw[0].second && parts.empty()) {
      std::string one;
      utf8_append(one, raw[0].first);
      return gbnf_literal(one);
    }
    if (!raw.empty()) {
      std::string cls = "[";
      for (auto [a, b] : raw) {
        cls += gbnf_class_char(a);
        if (a != b) {
          cls += '-';
          cls += gbnf_class_char(b);
        }
      }
      parts.insert(parts.begin(), cls + "]");
    }
    std::string out = parts.size() > 1 ? "(" : "";
    for (size_t i = 0; i < parts.size(); ++i) out += (i ? " | " : "") + parts[i];
    return out + (parts.size() > 1 ? ")" : "");
  }

  std::string_view p_;
  size_t pos_ = 0;
  bool end_anchor_ = false;
};

std::u32string code_points(const std::string& s) {
  std::u32string out;
  for (size_t i = 0, n = 0; i < s.size(); i += n) {
    uint32_t cp = 0;
    if (!utf8_decode(std::string_view(s).substr(i), &cp, &n)) throw std::invalid_argument("[gbnf_text] invalid UTF-8");
    out.push_back(cp);
  }
  return out;
}

std::string to_utf8(std::u32string_view s) {
  std::string out;
  for (char32_t c : s) utf8_append(out, uint32_t(c));
  return out;
}

// t[b..e) share their first d characters: the expression for the rest.
std::string literal_trie(const std::vector<std::u32string>& t, size_t b, size_t e, size_t d, const GbnfRuleFn& rule) {
  std::vector<std::string> parts;
  bool ends_here = t[b].size() == d;  // sorted: the shortest comes first
  if (ends_here) ++b;
  while (b < e) {
    size_t g = b + 1;
    while (g < e && t[g][d] == t[b][d]) ++g;
    // The group's common prefix beyond d.
    size_t len = d + 1;
    while (len < t[b].size() && len < t[g - 1].size() && t[b][len] == t[g - 1][len]) ++len;
    std::string lit = gbnf_literal(to_utf8(std::u32string_view(t[b]).substr(d, len - d)));
    bool single = g == b + 1 && t[b].size() == len;
    parts.push_back(single ? lit : lit + " " + literal_trie(t, b, g, len, rule));
    b = g;
  }
  if (ends_here) parts.push_back("\"\"");
  if (parts.size() == 1) return parts[0];
  std::string body;
  for (size_t i = 0; i < parts.size(); ++i) body += (i ? " | " : "") + parts[i];
  return rule("lit", body);
}

// The rest of a key whose first d characters are t[b..e)'s common prefix.
std::string except_trie(const std::vector<std::u32string>& t, size_t b, size_t e, size_t d, const std::string& close,
                        const std::string& free, const GbnfRuleFn& rule) {
  std::vector<std::string> alts;
  bool excluded = t[b].size() == d;
  if (excluded) ++b;
  if (!excluded) alts.push_back(close);
  std::string avoid;
  while (b < e) {
    size_t g = b + 1;
    while (g < e && t[g][d] == t[b][d]) ++g;
    char32_t c = t[b][d];
    avoid += gbnf_class_char(uint32_t(c));
    if (c >= 0x20 && c != '"' && c != '\\') {
      alts.push_back(gbnf_literal(to_utf8(std::u32string(1, c))) + " " + except_trie(t, b, g, d + 1, close, free, rule));
    }
    b = g;
  }
  alts.push_back("[^\"\\\\\\x00-\\x1F" + avoid + "] " + free + "* " + close);
  std::string body;
  for (size_t i = 0; i < alts.size(); ++i) body += (i ? " | " : "") + alts[i];
  return rule("key", body);
}

}  // namespace

std::string gbnf_literal_set(std::vector<std::string> texts, const GbnfRuleFn& rule) {
  std::vector<std::u32string> t;
  for (auto& s : texts) t.push_back(code_points(s));
  std::sort(t.begin(), t.end());
  t.erase(std::unique(t.begin(), t.end()), t.end());
  if (t.empty()) throw std::invalid_argument("[gbnf_literal_set] no strings");
  return literal_trie(t, 0, t.size(), 0, rule);
}

std::string gbnf_string_except(const std::vector<std::string>& excluded, const std::string& close,
                               const GbnfRuleFn& rule) {
  std::vector<std::u32string> t;
  for (auto& k : excluded) t.push_back(code_points(k));
  std::sort(t.begin(), t.end());
  if (t.empty()) throw std::invalid_argument("[gbnf_string_except] no strings");
  std::string free = rule("key-char", R"([^"\\\x00-\x1F])");
  return except_trie(t, 0, t.size(), 0, close, free, rule);
}

std::string gbnf_literal(std::string_view text) {
  std::string out = "\"";
  size_t i = 0;
  while (i < text.size()) {
    uint32_t cp = 0;
    size_t n = 0;
    if (!utf8_decode(text.substr(i), &cp, &n)) {
      throw std::invalid_argument("[gbnf_literal] invalid UTF-8 in a literal");
    }
    append_escaped(out, cp, false);
    i += n;
  }
  return out + "\"";
}

std::string gbnf_class_char(uint32_t cp) {
  std::string out;
  append_escaped(out, cp, true);
  return out;
}

std::string gbnf_int_range(std::optional<int64_t> lo, std::optional<int64_t> hi) {
  int64_t a = std::max(lo.value_or(-kMaxMagnitude), -kMaxMagnitude);
  int64_t b = std::min(hi.value_or(kMaxMagnitude), kMaxMagnitude);
  if (a > b) {
    throw std::invalid_argument("[gbnf_int_range] no integer lies in [" + std::to_string(a) + ", " +
                                std::to_string(b) + "]");
  }
  std::vector<std::string> parts;
  if (a < 0) parts.push_back("\"-\" " + magnitude_range(std::max<int64_t>(-b, 1), -a));
  if (b >= 0) parts.push_back(magnitude_range(std::max<int64_t>(a, 0), b));
  return parts.size() == 1 ? parts[0] : "(" + parts[0] + " | " + parts[1] + ")";
}

std::string gbnf_from_regex(std::string_view pattern) { return RegexTranslator(pattern).translate(); }

}  // namespace uma::text::grammar
