// Conversion and miscellaneous filters, and the filter registry.
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "uma/text/jinja/filters_impl.h"
#include "uma/text/jinja/ops.h"
#include "uma/text/jinja/pyformat.h"
#include "uma/text/jinja/unicode.h"

namespace uma::text::jinja {

namespace {

// Digits with single underscores between them, as Python's int() and float() accept.
bool clean_digits(std::string_view s, int base, std::string& out) {
  if (s.empty() || s.front() == '_' || s.back() == '_') return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '_') {
      if (s[i + 1] == '_') return false;
      continue;
    }
    int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
            : std::isalpha(static_cast<unsigned char>(c)) ? (c | 0x20) - 'a' + 10 : 99;
    if (d >= base) return false;
    out.push_back(c);
  }
  return true;
}

std::optional<int64_t> parse_int(const std::string& text, int base) {
  std::string s = py_strip(text, nullptr, true, true);
  std::string_view v(s);
  bool neg = false;
  if (!v.empty() && (v[0] == '+' || v[0] == '-')) {
    neg = v[0] == '-';
    v.remove_prefix(1);
  }
  if (v.size() >= 2 && v[0] == '0') {
    char p = static_cast<char>(v[1] | 0x20);
    int pb = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
    if (pb && (base == 0 || base == pb)) {
      base = pb;
      v.remove_prefix(2);
      if (!v.empty() && v[0] == '_') v.remove_prefix(1);
    }
  }
  if (base == 0) {
    if (v.size() > 1 && v[0] == '0' && v.find_first_not_of("0_") != std::string_view::npos) return std::nullopt;
    base = 10;
  }
  std::string digits;
  if (!clean_digits(v, base, digits)) return std::nullopt;
  uint64_t r = 0;
  for (char c : digits) {
    int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (c | 0x20) - 'a' + 10;
    if (r > (static_cast<uint64_t>(INT64_MAX) - d) / base) return std::nullopt;
    r = r * base + d;
  }
  return neg ? -static_cast<int64_t>(r) : static_cast<int64_t>(r);
}

std::optional<double> parse_float(const std::string& text) {
  std::string s = py_strip(text, nullptr, true, true);
  std::string_view v(s);
  std::string clean;
  if (!v.empty() && (v[0] == '+' || v[0] == '-')) {
    clean.push_back(v[0]);
    v.remove_prefix(1);
  }
  std::string lower = unicode::lower(std::string(v));
  if (lower == "inf" || lower == "infinity" || lower == "nan") return std::strtod((clean + lower).c_str(), nullptr);
  size_t e = v.find_first_of("eE");
  std::string_view mant = v.substr(0, e);
  size_t dot = mant.find('.');
  std::string_view ip = mant.substr(0, dot), fp = dot == std::string_view::npos ? "" : mant.substr(dot + 1);
  if (ip.empty() && fp.empty()) return std::nullopt;
  if (!ip.empty() && !clean_digits(ip, 10, clean)) return std::nullopt;
  if (dot != std::string_view::npos) {
    clean.push_back('.');
    if (!fp.empty() && !clean_digits(fp, 10, clean)) return std::nullopt;
  }
  if (e != std::string_view::npos) {
    std::string_view ex = v.substr(e + 1);
    clean.push_back('e');
    if (!ex.empty() && (ex[0] == '+' || ex[0] == '-')) {
      clean.push_back(ex[0]);
      ex.remove_prefix(1);
    }
    if (!clean_digits(ex, 10, clean)) return std::nullopt;
  }
  return std::strtod(clean.c_str(), nullptr);
}

Value f_int(Interpreter&, const Value& v, CallArgs& a) {
  Params p("int", a, {"default", "base"});
  Value dflt = p.get_or(0, Value::integer(0));
  int base = p.get(1) ? static_cast<int>(to_index(*p.get(1), "base")) : 10;
  if (v.is_undefined()) fail_undefined(v);
  if (v.is_integral()) return Value::integer(v.as_int());
  if (v.is_float()) {
    double f = v.as_float();
    if (!std::isfinite(f)) return dflt;
    if (std::fabs(f) >= 9.2e18) throw_error("OverflowError", "integer result does not fit in 64 bits");
    return Value::integer(static_cast<int64_t>(f));
  }
  if (v.is_string()) {
    if (auto i = parse_int(v.as_string(), base)) return Value::integer(*i);
    if (auto f = parse_float(v.as_string()); f && std::isfinite(*f) && std::fabs(*f) < 9.2e18)
      return Value::integer(static_cast<int64_t>(*f));
  }
  return dflt;
}

Value f_float(Interpreter&, const Value& v, CallArgs& a) {
  Params p("float", a, {"default"});
  if (v.is_undefined()) fail_undefined(v);
  if (v.is_number()) return Value::floating(v.as_float());
  if (v.is_string())
    if (auto f = parse_float(v.as_string())) return Value::floating(*f);
  return p.get_or(0, Value::floating(0.0));
}

Value f_abs(Interpreter&, const Value& v, CallArgs& a) {
  Params p("abs", a, {});
  if (v.is_float()) return Value::floating(std::fabs(v.as_float()));
  if (v.is_integral()) {
    if (v.as_int() == INT64_MIN) throw_error("OverflowError", "integer result does not fit in 64 bits");
    return Value::integer(std::llabs(v.as_int()));
  }
  type_error(std::string("bad operand type for abs(): '") + type_name(v) + "'");
}

// Python's round(x, n): correctly rounded, ties to even.
double round_float(double x, int64_t n) {
  if (!std::isfinite(x) || n > 308) return x;
  if (n >= 0) {
    char buf[1100];
    std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(n), x);
    return std::strtod(buf, nullptr);
  }
  // n < 0: round the exact integer digits at 10^-n, ties to even.
  double ip = std::trunc(x);
  bool frac = ip != x;
  char buf[400];
  std::snprintf(buf, sizeof buf, "%.0f", std::fabs(ip));
  std::string digits = buf;
  auto k = static_cast<size_t>(-n);
  if (k > digits.size()) return std::copysign(0.0, x);
  std::string head = digits.substr(0, digits.size() - k), tail = digits.substr(digits.size() - k);
  std::string half(k, '0');
  half[0] = '5';
  int c = tail.compare(half);
  bool up = c > 0 || (c == 0 && (frac || (!head.empty() && (head.back() - '0') % 2 == 1)));
  if (c == 0 && head.empty() && !frac) up = false;  // 0.5 * 10^k rounds to even 0
  if (head.empty()) head.assign(1, '0');
  if (up) {  // decimal increment, exact beyond 2^53
    size_t i = head.size();
    while (i > 0 && head[i - 1] == '9') head[--i] = '0';
    if (i == 0) head.insert(head.begin(), '1');
    else ++head[i - 1];
  }
  head += 'e';
  head += std::to_string(k);
  return std::copysign(std::strtod(head.c_str(), nullptr), x);
}

Value f_round(Interpreter&, const Value& v, CallArgs& a) {
  Params p("round", a, {"precision", "method"});
  int64_t precision = p.get(0) ? to_index(*p.get(0), "precision") : 0;
  std::string method = p.get(1) ? to_str(*p.get(1)) : "common";
  if (method != "common" && method != "ceil" && method != "floor")
    throw_error("FilterArgumentError", "method must be common, ceil or floor");
  if (!v.is_number()) type_error(std::string("type ") + type_name(v) + " doesn't define __round__ method");
  if (method == "common") {
    if (v.is_float()) return Value::floating(round_float(v.as_float(), precision));
    int64_t i = v.as_int();
    if (precision >= 0) return Value::integer(i);
    double r = round_float(static_cast<double>(i), precision);
    return Value::integer(static_cast<int64_t>(r));
  }
  double scale = std::pow(10.0, static_cast<double>(precision));
  double x = v.as_float() * scale;
  return Value::floating((method == "ceil" ? std::ceil(x) : std::floor(x)) / scale);
}

Value f_default(Interpreter&, const Value& v, CallArgs& a) {
  Params p("default", a, {"default_value", "boolean"});
  bool boolean = p.get(1) && truthy(*p.get(1));
  if (v.is_undefined() || (boolean && !truthy(v))) return p.get_or(0, Value::string(""));
  return v;
}

Value f_attr(Interpreter&, const Value& v, CallArgs& a) {
  Params p("attr", a, {"name"});
  if (!p.get(0)) type_error("do_attr() missing 1 required positional argument: 'name'");
  std::string name = to_str(*p.get(0));
  if (v.is_undefined()) fail_undefined(v);
  if (auto r = python_attr(v, name)) return *r;
  return missing_attribute(v, name);
}

std::string url_quote(const Value& v, bool for_qs) {
  std::string s = to_str(v), out;
  char buf[4];
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~' || (!for_qs && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else if (for_qs && c == ' ') {
      out.push_back('+');
    } else {
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

Value f_urlencode(Interpreter&, const Value& v, CallArgs& a) {
  Params p("urlencode", a, {});
  if (v.is_string() || (!v.is_dict() && !v.is_sequence() && !v.is_iter())) return Value::string(url_quote(v, false));
  std::string out;
  auto add = [&](const Value& k, const Value& x) {
    if (!out.empty()) out += '&';
    out += url_quote(k, true);
    out += '=';
    out += url_quote(x, true);
  };
  if (v.is_dict()) {
    for (const auto& [k, x] : v.as_dict().items()) add(k, x);
  } else {
    for (const Value& item : iterate(v)) {
      auto pair = iterate(item);
      if (pair->size() != 2) value_error("too many values to unpack (expected 2)");
      add((*pair)[0], (*pair)[1]);
    }
  }
  return Value::string(out);
}

Value f_xmlattr(Interpreter&, const Value& v, CallArgs& a) {
  Params p("xmlattr", a, {"autospace"});
  if (!v.is_dict()) type_error("xmlattr expects a mapping");
  std::string out;
  for (const auto& [k, x] : v.as_dict().items()) {
    if (x.is_none() || x.is_undefined()) continue;
    std::string key = to_str(k);
    if (key.find_first_of(" \t\n\r\f\v/>=") != std::string::npos) value_error("Invalid character in attribute name: " + repr(k));
    if (!out.empty()) out += ' ';
    out += html_escape(key);
    out += "=\"";
    out += html_escape(to_str(x));
    out += '"';
  }
  bool autospace = !p.get(0) || truthy(*p.get(0));
  if (autospace && !out.empty()) out = " " + out;
  return Value::string(out);
}

Value f_filesizeformat(Interpreter&, const Value& v, CallArgs& a) {
  Params p("filesizeformat", a, {"binary"});
  bool binary = p.get(0) && truthy(*p.get(0));
  double bytes;
  if (v.is_number()) bytes = v.as_float();
  else if (v.is_string() && parse_float(v.as_string())) bytes = *parse_float(v.as_string());
  else value_error("could not convert " + std::string(type_name(v)) + " to float: " + repr(v));
  double base = binary ? 1024 : 1000;
  static const char* dec[] = {"kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  static const char* bin[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
  if (bytes == 1) return Value::string("1 Byte");
  char buf[64];
  if (bytes < base) {
    std::snprintf(buf, sizeof buf, "%lld Bytes", static_cast<long long>(bytes));
    return Value::string(buf);
  }
  int i = 0;
  double unit = base * base;
  while (i < 7 && bytes >= unit) {
    ++i;
    unit *= base;
  }
  std::snprintf(buf, sizeof buf, "%.1f %s", base * bytes / unit, binary ? bin[i] : dec[i]);
  return Value::string(buf);
}

Value f_pprint(Interpreter&, const Value& v, CallArgs& a) {
  Params p("pprint", a, {});
  return Value::string(repr(v));
}

const FilterTable& table() {
  static const FilterTable t = [] {
    FilterTable t;
    add_text_filters(t);
    add_sequence_filters(t);
    t["int"] = f_int;
    t["float"] = f_float;
    t["abs"] = f_abs;
    t["round"] = f_round;
    t["d"] = f_default;
    t["default"] = f_default;
    t["attr"] = f_attr;
    t["urlencode"] = f_urlencode;
    t["xmlattr"] = f_xmlattr;
    t["filesizeformat"] = f_filesizeformat;
    t["pprint"] = f_pprint;
    return t;
  }();
  return t;
}

}  // namespace

bool has_filter(std::string_view name) { return table().count(name) != 0; }

Value apply_filter(Interpreter& in, const std::string& name, const Value& input, CallArgs& args) {
  auto it = table().find(name);
  if (it == table().end()) runtime_error("No filter named '" + name + "' found.");
  return it->second(in, input, args);
}

}  // namespace uma::text::jinja
