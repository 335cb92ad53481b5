#include "uma/text/jinja/pyformat.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "uma/text/jinja/unicode.h"

namespace uma::text::jinja {

namespace {

// One parsed conversion of either mini-language.
struct Spec {
  char32_t fill = ' ';
  char align = 0;  // '<', '>', '^', '=' or 0 for the type's default
  char sign = '-';
  bool alt = false, zero = false;
  int width = -1, precision = -1;
  char grouping = 0;
  char type = 0;
};

std::string pad(const std::string& body, const Spec& sp, char default_align) {
  size_t len = unicode::length(body);
  if (sp.width < 0 || len >= static_cast<size_t>(sp.width)) return body;
  size_t fill_n = sp.width - len;
  std::string fill;
  unicode::append(fill, sp.fill);
  auto rep = [&](size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += fill;
    return s;
  };
  char align = sp.align ? sp.align : default_align;
  if (align == '<') return body + rep(fill_n);
  if (align == '^') return rep(fill_n / 2) + body + rep(fill_n - fill_n / 2);
  if (align == '=') {
    size_t sign_len = (!body.empty() && (body[0] == '-' || body[0] == '+' || body[0] == ' ')) ? 1 : 0;
    if (sp.alt && body.size() > sign_len + 1 && body[sign_len] == '0' &&
        std::string("xXobB").find(body[sign_len + 1]) != std::string::npos)
      sign_len += 2;
    return body.substr(0, sign_len) + rep(fill_n) + body.substr(sign_len);
  }
  return rep(fill_n) + body;
}

std::string group_digits(const std::string& digits, char sep, int every) {
  std::string out;
  int n = static_cast<int>(digits.size());
  for (int i = 0; i < n; ++i) {
    if (i > 0 && (n - i) % every == 0) out.push_back(sep);
    out.push_back(digits[i]);
  }
  return out;
}

std::string sign_prefix(bool negative, char sign) {
  if (negative) return "-";
  if (sign == '+') return "+";
  if (sign == ' ') return " ";
  return "";
}

std::string format_int(int64_t v, const Spec& sp) {
  bool neg = v < 0;
  uint64_t mag = neg ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  std::string digits, prefix;
  char t = sp.type ? sp.type : 'd';
  if (t == 'c') {
    std::string s;
    unicode::append(s, static_cast<char32_t>(v));
    return pad(s, sp, '<');
  }
  int base = t == 'x' || t == 'X' ? 16 : t == 'o' ? 8 : t == 'b' ? 2 : 10;
  if (mag == 0) digits = "0";
  while (mag) {
    digits.insert(digits.begin(), "0123456789abcdef"[mag % base]);
    mag /= base;
  }
  if (t == 'X')
    for (char& c : digits) c = static_cast<char>(std::toupper(c));
  if (sp.grouping) digits = group_digits(digits, sp.grouping, base == 10 ? 3 : 4);
  if (sp.alt && base != 10) prefix = std::string("0") + (t == 'X' ? 'X' : t);
  std::string body = sign_prefix(neg, sp.sign) + prefix + digits;
  Spec s2 = sp;
  if (sp.zero && !sp.align) {
    s2.fill = '0';
    s2.align = '=';
  }
  return pad(body, s2, '>');
}

std::string c_format(double v, char type, int precision, bool alt) {
  char fmtbuf[16];
  std::snprintf(fmtbuf, sizeof fmtbuf, "%%%s.%d%c", alt ? "#" : "", precision, type);
  int n = std::snprintf(nullptr, 0, fmtbuf, v);
  std::string s(n, '\0');
  std::snprintf(s.data(), n + 1, fmtbuf, v);
  return s;
}

// Python's 'g' (and, with add_dot_0, the untyped format with a precision):
// p significant digits, exponent form when the exponent is < -4 or too large.
std::string general_format(double a, int p, bool alt, bool add_dot_0) {
  if (p == 0) p = 1;
  std::string e = c_format(a, 'e', p - 1, false);  // d.ddde±XX, correctly rounded
  size_t epos = e.find('e');
  std::string digits;
  for (char c : e.substr(0, epos))
    if (c != '.') digits.push_back(c);
  int exp = std::stoi(e.substr(epos + 1));
  int decpt = exp + 1;
  if (!alt)
    while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  auto n = static_cast<int>(digits.size());
  if (decpt <= -4 || decpt > (add_dot_0 ? p - 1 : p)) {
    std::string out(1, digits[0]);
    if (n > 1 || alt) {
      out += '.';
      out.append(digits, 1);
    }
    char buf[16];
    std::snprintf(buf, sizeof buf, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    return out + buf;
  }
  std::string out;
  if (decpt <= 0) {
    out.assign("0.").append(-decpt, '0').append(digits);
  } else if (decpt >= n) {
    out.assign(digits).append(decpt - n, '0');
    if (alt) out += '.';
  } else {
    out.assign(digits, 0, decpt).append(1, '.').append(digits, decpt);
  }
  if (add_dot_0 && out.find('.') == std::string::npos) out += ".0";
  return out;
}

std::string format_float(double v, const Spec& sp) {
  char t = sp.type;
  bool neg = std::signbit(v) && !std::isnan(v);
  double a = std::fabs(v);
  std::string body;
  if (std::isnan(v) || std::isinf(v)) {
    body = std::isnan(v) ? "nan" : "inf";
    if (t == 'E' || t == 'F' || t == 'G') body = std::isnan(v) ? "NAN" : "INF";
    if (t == '%') body += "%";
  } else if (t == 0 && sp.precision < 0) {
    body = float_repr(a);
  } else if (t == 0) {
    body = general_format(a, sp.precision, sp.alt, true);
  } else if (t == '%') {
    body = c_format(a * 100, 'f', sp.precision < 0 ? 6 : sp.precision, sp.alt) + "%";
  } else {
    char ct = t == 'n' ? 'g' : t;
    body = c_format(a, ct, sp.precision < 0 ? 6 : sp.precision, sp.alt);
  }
  if (sp.grouping) {
    size_t end = body.find_first_not_of("0123456789");
    if (end == std::string::npos) end = body.size();
    body = group_digits(body.substr(0, end), sp.grouping, 3) + body.substr(end);
  }
  body = sign_prefix(neg, sp.sign) + body;
  Spec s2 = sp;
  if (sp.zero && !sp.align) {
    s2.fill = '0';
    s2.align = '=';
  }
  return pad(body, s2, '>');
}

Spec parse_spec(std::string_view spec) {
  Spec sp;
  size_t i = 0;
  auto is_align = [](char c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  if (!spec.empty()) {
    size_t j = 0;
    char32_t first = unicode::decode(spec, j);
    if (j < spec.size() && is_align(spec[j])) {
      sp.fill = first;
      sp.align = spec[j];
      i = j + 1;
    } else if (is_align(spec[0])) {
      sp.align = spec[0];
      i = 1;
    }
  }
  if (i < spec.size() && (spec[i] == '+' || spec[i] == '-' || spec[i] == ' ')) sp.sign = spec[i++];
  if (i < spec.size() && spec[i] == 'z') ++i;
  if (i < spec.size() && spec[i] == '#') {
    sp.alt = true;
    ++i;
  }
  if (i < spec.size() && spec[i] == '0') {
    sp.zero = true;
    ++i;
  }
  int w = 0;
  bool has_w = false;
  while (i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i]))) {
    w = std::min(w * 10 + (spec[i++] - '0'), 1 << 20);
    has_w = true;
  }
  if (has_w) sp.width = w;
  if (i < spec.size() && (spec[i] == ',' || spec[i] == '_')) sp.grouping = spec[i++];
  if (i < spec.size() && spec[i] == '.') {
    ++i;
    int p = 0;
    bool has_p = false;
    while (i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i]))) {
      p = std::min(p * 10 + (spec[i++] - '0'), 1 << 20);
      has_p = true;
    }
    if (!has_p) value_error("Format specifier missing precision");
    sp.precision = p;
  }
  if (i < spec.size()) sp.type = spec[i++];
  if (i != spec.size()) value_error("Invalid format specifier '" + std::string(spec) + "'");
  return sp;
}

}  // namespace

std::string format_with_spec(const Value& v, std::string_view spec) {
  if (spec.empty()) return to_str(v);
  Spec sp = parse_spec(spec);
  auto bad = [&]() -> std::string {
    value_error(std::string("Unknown format code '") + sp.type + "' for object of type '" +
                type_name(v) + "'");
  };
  if (v.is_string()) {
    if (sp.type && sp.type != 's') bad();
    std::string s = v.as_string();
    if (sp.precision >= 0) {
      auto off = unicode::offsets(s);
      if (static_cast<size_t>(sp.precision) + 1 < off.size()) s = s.substr(0, off[sp.precision]);
    }
    return pad(s, sp, '<');
  }
  if (v.is_integral()) {
    if (std::string_view("bcdoxXn").find(sp.type) != std::string_view::npos || sp.type == 0) {
      if (sp.precision >= 0) value_error("Precision not allowed in integer format specifier");
      return format_int(v.as_int(), sp);
    }
    if (std::string_view("eEfFgG%").find(sp.type) != std::string_view::npos)
      return format_float(static_cast<double>(v.as_int()), sp);
    bad();
  }
  if (v.is_float()) {
    if (sp.type == 0 || std::string_view("eEfFgGn%").find(sp.type) != std::string_view::npos)
      return format_float(v.as_float(), sp);
    bad();
  }
  type_error(std::string("unsupported format string passed to ") + type_name(v) + ".__format__");
}

std::string percent_format(const std::string& fmt, const Value& args, bool escape_args) {
  const ValueList* tuple = args.is_tuple() ? &args.as_list() : nullptr;
  ValueList single{args};
  const ValueList& pos = tuple ? *tuple : single;
  const DictData* mapping = args.is_dict() ? &args.as_dict() : nullptr;
  // Python treats any non-tuple, non-str argument with __getitem__ as a mapping.
  bool mapping_like = mapping || args.is_list() || args.is_undefined() ||
                      (args.is_iter() && args.as_iter().kind == IterKind::range);
  size_t next = 0;
  bool used_mapping = false;
  auto take = [&]() -> const Value& {
    if (next >= pos.size()) type_error("not enough arguments for format string");
    return pos[next++];
  };
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out.push_back(fmt[i]);
      continue;
    }
    if (++i >= fmt.size()) value_error("incomplete format");
    const Value* arg = nullptr;
    if (fmt[i] == '(') {
      size_t close = fmt.find(')', i);
      if (close == std::string::npos) value_error("incomplete format key");
      if (!mapping) {
        if (args.is_undefined()) fail_undefined(args);
        if (mapping_like) type_error(std::string(type_name(args)) + " indices must be integers or slices, not str");
        type_error("format requires a mapping");
      }
      const Value* found = mapping->find(std::string_view(fmt).substr(i + 1, close - i - 1));
      if (!found) throw_error("KeyError", str_repr(fmt.substr(i + 1, close - i - 1)));
      arg = found;
      used_mapping = true;
      i = close + 1;
    }
    Spec sp;
    sp.sign = '-';
    for (; i < fmt.size(); ++i) {
      char c = fmt[i];
      if (c == '-') sp.align = '<';
      else if (c == '+') sp.sign = '+';
      else if (c == ' ' && sp.sign != '+') sp.sign = ' ';
      else if (c == '#') sp.alt = true;
      else if (c == '0') sp.zero = true;
      else break;
    }
    auto read_num = [&](int& target) {
      if (i < fmt.size() && fmt[i] == '*') {
        const Value& w = take();
        if (!w.is_integral()) type_error("* wants int");
        target = static_cast<int>(std::min<int64_t>(w.as_int(), 1 << 20));
        ++i;
        return;
      }
      bool any = false;
      int n = 0;
      while (i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i]))) {
        n = std::min(n * 10 + (fmt[i++] - '0'), 1 << 20);
        any = true;
      }
      if (any) target = n;
    };
    read_num(sp.width);
    if (sp.width < 0 && sp.width != -1) {
      sp.align = '<';
      sp.width = -sp.width;
    }
    if (i < fmt.size() && fmt[i] == '.') {
      ++i;
      sp.precision = 0;
      read_num(sp.precision);
    }
    while (i < fmt.size() && (fmt[i] == 'l' || fmt[i] == 'h' || fmt[i] == 'L')) ++i;
    if (i >= fmt.size()) value_error("incomplete format");
    char t = fmt[i];
    if (t == '%') {
      out.push_back('%');
      continue;
    }
    const Value& v = arg ? *arg : take();
    if (sp.align == '<') sp.zero = false;
    Spec num = sp;
    if (sp.zero) {
      num.fill = '0';
      num.align = '=';
    }
    switch (t) {
      case 's': case 'r': case 'a': {
        std::string s = t == 's' ? to_str(v) : repr(v);
        if (escape_args && !(t == 's' && v.is_markup())) s = html_escape(s);
        if (sp.precision >= 0) {
          auto off = unicode::offsets(s);
          if (static_cast<size_t>(sp.precision) + 1 < off.size()) s = s.substr(0, off[sp.precision]);
        }
        out += pad(s, sp, '>');
        break;
      }
      case 'd': case 'i': case 'u': case 'x': case 'X': case 'o': {
        if (!v.is_number())
          type_error(std::string("%") + t + " format: a " +
                     (t == 'd' || t == 'i' || t == 'u' ? "real number" : "integer") +
                     " is required, not " + type_name(v));
        bool decimal = t == 'd' || t == 'i' || t == 'u';
        if (v.is_float() && !decimal) type_error(std::string("%") + t + " format: an integer is required, not float");
        num.type = decimal ? 'd' : t;
        num.precision = -1;
        if (v.is_float() && std::fabs(v.as_float()) >= 9.2e18) {  // beyond int64: exact digits
          double f = v.as_float();
          if (!std::isfinite(f)) throw_error("OverflowError", "cannot convert float infinity to integer");
          std::string digits = c_format(std::fabs(f), 'f', 0, false);
          out += pad(sign_prefix(f < 0, num.sign) + digits, num, '>');
          break;
        }
        out += format_int(v.is_float() ? static_cast<int64_t>(v.as_float()) : v.as_int(), num);
        break;
      }
      case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': {
        if (!v.is_number()) type_error(std::string("must be real number, not ") + type_name(v));
        num.type = t;
        if (num.precision < 0) num.precision = 6;
        out += format_float(v.as_float(), num);
        break;
      }
      case 'c': {
        std::string s;
        if (v.is_integral()) unicode::append(s, static_cast<char32_t>(v.as_int()));
        else if (v.is_string() && unicode::length(v.as_string()) == 1) s = v.as_string();
        else type_error("%c requires int or char");
        out += pad(s, sp, '>');
        break;
      }
      default: {
        char buf[96];
        std::snprintf(buf, sizeof buf, "unsupported format character '%c' (0x%x) at index %zu", t,
                      static_cast<unsigned char>(t), i);
        value_error(buf);
      }
    }
  }
  if (!used_mapping && !mapping_like && next < pos.size())
    type_error("not all arguments converted during string formatting");
  return out;
}

}  // namespace uma::text::jinja
