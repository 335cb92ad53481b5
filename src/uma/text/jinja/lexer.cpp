#include "uma/text/jinja/lexer.h"

#include <cstring>

#include "uma/text/jinja/error.h"
#include "uma/text/jinja/unicode.h"

namespace uma::text::jinja {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

class Lexer {
 public:
  explicit Lexer(const std::string& raw) : src_(normalize(raw)) {}

  std::vector<Token> run() {
    try {
      lex_all();
    } catch (const JinjaError& e) {
      Token t;
      t.type = Tok::error;
      t.value = e.message();
      t.line = e.line();
      t.column = e.column();
      tokens_.push_back(std::move(t));
    }
    Token eof;
    eof.type = Tok::eof;
    locate(src_.size(), eof);
    tokens_.push_back(eof);
    return std::move(tokens_);
  }

 private:
  void lex_all() {
    bool line_starting = true;
    while (pos_ < src_.size()) {
      size_t tag = find_tag(pos_);
      if (tag == std::string::npos) {
        push(Tok::data, pos_, src_.substr(pos_));
        pos_ = src_.size();
        break;
      }
      char kind = src_[tag + 1];  // '{', '%' or '#'
      char sign = tag + 2 < src_.size() && (src_[tag + 2] == '-' || src_[tag + 2] == '+') ? src_[tag + 2] : 0;
      std::string text = src_.substr(pos_, tag - pos_);
      strip_before_tag(text, sign, kind != '{', line_starting);
      if (!text.empty()) push(Tok::data, pos_, std::move(text));
      size_t after = tag + 2 + (sign ? 1 : 0);
      size_t raw_end = kind == '%' ? match_raw_begin(after) : 0;
      if (raw_end) {
        line_starting = src_[raw_end - 1] == '\n';
        pos_ = raw_end;
        lex_raw(line_starting);
      } else if (kind == '#') {
        pos_ = after;
        lex_comment(tag);
      } else {
        push(kind == '%' ? Tok::block_begin : Tok::variable_begin, tag, "");
        pos_ = after;
        lex_tag(kind == '%');
      }
      line_starting = pos_ > 0 && src_[pos_ - 1] == '\n';
    }
  }

  std::string src_;
  size_t pos_ = 0;
  std::vector<Token> tokens_;
  std::vector<char> balance_;
  // Incremental position tracking (tokens come in source order).
  size_t track_pos_ = 0;
  int track_line_ = 1, track_col_ = 1;

  static std::string normalize(const std::string& raw) {
    std::string out;
    out.reserve(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\r') {
        out.push_back('\n');
        if (i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
      } else {
        out.push_back(raw[i]);
      }
    }
    if (!out.empty() && out.back() == '\n') out.pop_back();  // keep_trailing_newline=False
    return out;
  }

  void locate(size_t at, Token& t) {
    if (at < track_pos_) {  // rare: rewind
      track_pos_ = 0;
      track_line_ = 1;
      track_col_ = 1;
    }
    while (track_pos_ < at && track_pos_ < src_.size()) {
      if (src_[track_pos_] == '\n') {
        ++track_line_;
        track_col_ = 1;
        ++track_pos_;
      } else {
        unicode::decode(src_, track_pos_);
        ++track_col_;
      }
    }
    t.line = track_line_;
    t.column = track_col_;
  }

  [[noreturn]] void fail(size_t at, std::string msg) {
    Token t;
    locate(at, t);
    throw JinjaError("TemplateSyntaxError", std::move(msg), t.line, t.column);
  }

  void push(Tok type, size_t at, std::string value) {
    Token t;
    t.type = type;
    t.value = std::move(value);
    locate(at, t);
    tokens_.push_back(std::move(t));
  }

  bool starts(size_t at, const char* s) const { return src_.compare(at, std::strlen(s), s) == 0; }

  // Length of Python-regex \s+ at `at` (Unicode whitespace).
  size_t spaces(size_t at) const {
    size_t i = at;
    while (i < src_.size()) {
      size_t j = i;
      if (!unicode::is_space(unicode::decode(src_, j))) break;
      i = j;
    }
    return i - at;
  }

  size_t find_tag(size_t from) const {
    for (size_t i = src_.find('{', from); i != std::string::npos; i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#'))
        return i;
    }
    return std::string::npos;
  }

  static std::string rstrip_unicode(const std::string& s) {
    size_t end = 0;
    for (size_t i = 0; i < s.size();) {
      char32_t c = unicode::decode(s, i);
      if (!unicode::is_space(c)) end = i;
    }
    return s.substr(0, end);
  }

  static bool all_space(const std::string& s, size_t from) {
    if (from >= s.size()) return false;
    for (size_t i = from; i < s.size();)
      if (!unicode::is_space(unicode::decode(s, i))) return false;
    return true;
  }

  // Jinja2's OptionalLStrip: `-` strips all whitespace before the tag;
  // otherwise lstrip_blocks strips the indentation of a block or comment tag
  // that starts its line.
  static void strip_before_tag(std::string& text, char sign, bool lstrip_kind, bool line_starting) {
    if (sign == '-') {
      text = rstrip_unicode(text);
    } else if (sign != '+' && lstrip_kind) {
      size_t nl = text.rfind('\n');
      size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
      if ((l_pos > 0 || line_starting) && all_space(text, l_pos)) text.resize(l_pos);
    }
  }

  // `{% raw %}` after the `{%[-+]`: returns the end of the tag or 0.
  size_t match_raw_begin(size_t at) const {
    size_t i = at + spaces(at);
    if (!starts(i, "raw")) return 0;
    i += 3;
    i += spaces(i);
    if (starts(i, "-%}")) return i + 3 + spaces(i + 3);
    if (starts(i, "%}")) return i + 2;
    return 0;
  }

  // Block-end rule: `+%}`, `-%}\s*` or `%}\n?` (trim_blocks). Returns the end or 0.
  size_t match_block_end(size_t at) const {
    if (starts(at, "+%}")) return at + 3;
    if (starts(at, "-%}")) return at + 3 + spaces(at + 3);
    if (starts(at, "%}")) return at + 2 + (at + 2 < src_.size() && src_[at + 2] == '\n' ? 1 : 0);
    return 0;
  }

  void lex_raw(bool line_starting) {
    for (size_t i = src_.find("{%", pos_); i != std::string::npos; i = src_.find("{%", i + 1)) {
      size_t j = i + 2;
      char sign = j < src_.size() && (src_[j] == '-' || src_[j] == '+') ? src_[j] : 0;
      if (sign) ++j;
      j += spaces(j);
      if (!starts(j, "endraw")) continue;
      j += 6;
      j += spaces(j);
      size_t end = match_block_end(j);
      if (!end) continue;
      std::string text = src_.substr(pos_, i - pos_);
      strip_before_tag(text, sign, true, line_starting);
      if (!text.empty()) push(Tok::data, pos_, std::move(text));
      pos_ = end;
      return;
    }
    if (pos_ < src_.size()) fail(pos_, "Missing end of raw directive");  // Jinja needs one more char to fail
  }

  void lex_comment(size_t begin) {
    for (size_t q = src_.find("#}", pos_); q != std::string::npos; q = src_.find("#}", q + 1)) {
      size_t end = q + 2;
      if (q > pos_ && src_[q - 1] == '-') end += spaces(end);
      else if (q > pos_ && src_[q - 1] == '+') {}
      else if (end < src_.size() && src_[end] == '\n') ++end;
      pos_ = end;
      return;
    }
    if (pos_ < src_.size()) fail(begin, "Missing end of comment tag");  // Jinja needs one more char to fail
  }

  void lex_tag(bool block) {
    while (true) {
      if (pos_ >= src_.size()) return;  // the parser reports the missing end
      if (balance_.empty()) {
        size_t end = 0;
        if (block) {
          end = match_block_end(pos_);
        } else if (starts(pos_, "-}}")) {
          end = pos_ + 3 + spaces(pos_ + 3);
        } else if (starts(pos_, "}}")) {
          end = pos_ + 2;
        }
        if (end) {
          push(block ? Tok::block_end : Tok::variable_end, pos_, "");
          pos_ = end;
          return;
        }
      }
      if (size_t n = spaces(pos_)) {
        pos_ += n;
        continue;
      }
      if (lex_number() || lex_name() || lex_string() || lex_operator()) continue;
      size_t j = pos_;
      unicode::decode(src_, j);
      fail(pos_, "unexpected char " + quote_char(src_.substr(pos_, j - pos_)) + " at " +
                     std::to_string(unicode::length(std::string_view(src_).substr(0, pos_))));
    }
  }

  static std::string quote_char(const std::string& c) {
    return c == "'" ? "\"'\"" : "'" + (c == "\\" ? std::string("\\\\") : c) + "'";
  }

  // (\d+_)*\d+ : digits with single underscores between them.
  size_t digits(size_t at, bool (*ok)(char)) const {
    size_t i = at;
    if (i >= src_.size() || !ok(src_[i])) return 0;
    while (i < src_.size()) {
      if (ok(src_[i])) {
        ++i;
      } else if (src_[i] == '_' && i + 1 < src_.size() && ok(src_[i + 1])) {
        i += 2;
      } else {
        break;
      }
    }
    return i - at;
  }

  bool lex_number() {
    if (!is_digit(src_[pos_])) return false;
    auto dig = [](char c) { return is_digit(c); };
    // float: int part, then (fraction? exponent) | fraction
    if (pos_ == 0 || src_[pos_ - 1] != '.') {
      size_t i = pos_ + digits(pos_, dig);
      size_t frac = 0;
      if (i < src_.size() && src_[i] == '.') frac = digits(i + 1, dig);
      size_t j = frac ? i + 1 + frac : i;
      size_t exp_end = 0;
      if (j < src_.size() && (src_[j] == 'e' || src_[j] == 'E')) {
        size_t k = j + 1;
        if (k < src_.size() && (src_[k] == '+' || src_[k] == '-')) ++k;
        if (size_t n = digits(k, dig)) exp_end = k + n;
      }
      if (exp_end || frac) {
        size_t end = exp_end ? exp_end : j;
        std::string text;
        for (size_t k = pos_; k < end; ++k)
          if (src_[k] != '_') text.push_back(src_[k]);
        Token t;
        t.type = Tok::floating;
        t.value = text;
        t.float_value = std::strtod(text.c_str(), nullptr);
        locate(pos_, t);
        tokens_.push_back(std::move(t));
        pos_ = end;
        return true;
      }
    }
    // integer: 0b / 0o / 0x prefixes, decimal, or zeros
    int base = 10;
    size_t start = pos_, i = pos_;
    char p = pos_ + 1 < src_.size() ? static_cast<char>(src_[pos_ + 1] | 0x20) : 0;
    auto prefixed = [&](int b, bool (*ok)(char)) {
      size_t k = pos_ + 2;
      size_t end = k;
      while (true) {  // (_?[digit])+
        size_t m = end;
        if (m < src_.size() && src_[m] == '_') ++m;
        if (m < src_.size() && ok(src_[m])) end = m + 1;
        else break;
      }
      if (end == k) return false;
      base = b;
      i = end;
      return true;
    };
    bool done = false;
    if (src_[pos_] == '0' && p == 'b') done = prefixed(2, [](char c) { return c == '0' || c == '1'; });
    else if (src_[pos_] == '0' && p == 'o') done = prefixed(8, [](char c) { return c >= '0' && c <= '7'; });
    else if (src_[pos_] == '0' && p == 'x') done = prefixed(16, [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
    if (!done) {
      if (src_[pos_] == '0') {  // 0(_?0)*
        i = pos_ + 1;
        while (true) {
          size_t m = i;
          if (m < src_.size() && src_[m] == '_') ++m;
          if (m < src_.size() && src_[m] == '0') i = m + 1;
          else break;
        }
      } else {
        i = pos_ + digits(pos_, dig);
      }
    }
    std::string text;
    for (size_t k = start + (base == 10 ? 0 : 2); k < i; ++k)
      if (src_[k] != '_') text.push_back(src_[k]);
    uint64_t v = 0;
    bool overflow = false;
    for (char c : text) {
      int d = is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
      if (v > (UINT64_MAX - d) / base) overflow = true;
      v = v * base + d;
    }
    if (overflow || v > static_cast<uint64_t>(INT64_MAX)) fail(start, "integer literal too large");
    Token t;
    t.type = Tok::integer;
    t.value = src_.substr(start, i - start);
    t.int_value = static_cast<int64_t>(v);
    locate(start, t);
    tokens_.push_back(std::move(t));
    pos_ = i;
    return true;
  }

  bool lex_name() {
    size_t i = pos_;
    while (i < src_.size()) {
      size_t j = i;
      char32_t c = unicode::decode(src_, j);
      if (!unicode::is_identifier_char(c)) break;
      i = j;
    }
    if (i == pos_) return false;
    size_t k = pos_;
    char32_t first = unicode::decode(src_, k);
    if (!(first == '_' || unicode::is_alpha(first)))
      fail(pos_, "Invalid character in identifier");
    push(Tok::name, pos_, src_.substr(pos_, i - pos_));
    pos_ = i;
    return true;
  }

  bool lex_string() {
    char q = src_[pos_];
    if (q != '\'' && q != '"') return false;
    size_t i = pos_ + 1;
    while (i < src_.size() && src_[i] != q) i += src_[i] == '\\' ? 2 : 1;
    if (i >= src_.size()) return false;  // unterminated: falls through to "unexpected char"
    Token t;
    t.type = Tok::string;
    locate(pos_, t);
    std::string error;
    if (!unescape_string(std::string_view(src_).substr(pos_ + 1, i - pos_ - 1), t.value, error))
      throw JinjaError("TemplateSyntaxError", error, t.line, t.column);
    tokens_.push_back(std::move(t));
    pos_ = i + 1;
    return true;
  }

  // Longest match among Jinja's operators: // ** == != >= <= and single characters.
  bool lex_operator() {
    char c = src_[pos_];
    if (std::strchr("+-/*%~[](){}><=.:|,;!", c) == nullptr || c == 0) return false;
    char d = pos_ + 1 < src_.size() ? src_[pos_ + 1] : 0;
    bool two = (c == '/' && d == '/') || (c == '*' && d == '*') || (d == '=' && std::strchr("=!><", c));
    if (c == '!' && !two) return false;
    if (c == '{' || c == '(' || c == '[') {
      balance_.push_back(c == '{' ? '}' : c == '(' ? ')' : ']');
    } else if (c == '}' || c == ')' || c == ']') {
      if (balance_.empty()) fail(pos_, std::string("unexpected '") + c + "'");
      char want = balance_.back();
      balance_.pop_back();
      if (want != c) fail(pos_, std::string("unexpected '") + c + "', expected '" + want + "'");
    }
    push(Tok::op, pos_, two ? std::string{c, d} : std::string(1, c));
    pos_ += two ? 2 : 1;
    return true;
  }
};

}  // namespace

std::vector<Token> tokenize(const std::string& source) { return Lexer(source).run(); }

std::string describe(const Token& t) {
  switch (t.type) {
    case Tok::name: case Tok::op: return t.value;
    case Tok::data: return "template data / text";
    case Tok::block_begin: return "begin of statement block";
    case Tok::block_end: return "end of statement block";
    case Tok::variable_begin: return "begin of print statement";
    case Tok::variable_end: return "end of print statement";
    case Tok::string: return "string";
    case Tok::integer: return "integer";
    case Tok::floating: return "float";
    case Tok::eof: return "end of template";
    case Tok::error: return "error";
  }
  return "token";
}

}  // namespace uma::text::jinja
