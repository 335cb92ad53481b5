// Python str methods on UTF-8 strings, indexing by code point.
#include <algorithm>
#include <array>

#include "uma/text/jinja/builtins.h"
#include "uma/text/jinja/ops.h"
#include "uma/text/jinja/pyformat.h"
#include "uma/text/jinja/unicode.h"

namespace uma::text::jinja {

namespace {

constexpr std::array<const char*, 46> kStrMethods = {
    "capitalize", "casefold", "center", "count", "endswith", "expandtabs", "find", "format", "format_map",
    "index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric",
    "isprintable", "isspace", "istitle", "isupper", "join", "ljust", "lower", "lstrip", "partition",
    "removeprefix", "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip",
    "split", "splitlines", "startswith", "strip", "swapcase", "title", "upper", "zfill", "encode", "translate"};

const std::string* opt_str(const Value* v, const char* what) {
  if (!v || v->is_none()) return nullptr;
  if (!v->is_string()) type_error(std::string(what) + " must be str or None, not " + type_name(*v));
  return &v->as_string();
}

const std::string& req_str(const Value* v, const char* func) {
  if (!v) type_error(std::string(func) + "() missing required argument");
  if (!v->is_string()) type_error(std::string("must be str, not ") + type_name(*v));
  return v->as_string();
}

bool is_ws(char32_t c) { return unicode::is_space(c); }

std::string strip(const std::string& s, const std::string* chars, bool left, bool right) {
  std::u32string u = unicode::to_u32(s);
  std::u32string set = chars ? unicode::to_u32(*chars) : std::u32string();
  auto drop = [&](char32_t c) { return chars ? set.find(c) != std::u32string::npos : is_ws(c); };
  size_t a = 0, b = u.size();
  if (left)
    while (a < b && drop(u[a])) ++a;
  if (right)
    while (b > a && drop(u[b - 1])) --b;
  return unicode::to_utf8(u.substr(a, b - a));
}

ValueList split_ws(const std::string& s, int64_t maxsplit, bool from_right) {
  std::u32string u = unicode::to_u32(s);
  std::vector<std::u32string> parts;
  if (!from_right) {
    size_t i = 0;
    while (true) {
      while (i < u.size() && is_ws(u[i])) ++i;
      if (i >= u.size()) break;
      if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) == maxsplit) {
        size_t end = u.size();
        parts.push_back(u.substr(i, end - i));
        break;
      }
      size_t j = i;
      while (j < u.size() && !is_ws(u[j])) ++j;
      parts.push_back(u.substr(i, j - i));
      i = j;
    }
  } else {
    size_t i = u.size();
    while (true) {
      while (i > 0 && is_ws(u[i - 1])) --i;
      if (i == 0) break;
      if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) == maxsplit) {
        parts.push_back(u.substr(0, i));
        break;
      }
      size_t j = i;
      while (j > 0 && !is_ws(u[j - 1])) --j;
      parts.push_back(u.substr(j, i - j));
      i = j;
    }
    std::reverse(parts.begin(), parts.end());
  }
  ValueList out;
  for (auto& p : parts) out.push_back(Value::string(unicode::to_utf8(p)));
  return out;
}

ValueList split_sep(const std::string& s, const std::string& sep, int64_t maxsplit, bool from_right) {
  if (sep.empty()) value_error("empty separator");
  std::vector<std::string> parts;
  if (!from_right) {
    size_t start = 0;
    while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
      size_t k = s.find(sep, start);
      if (k == std::string::npos) break;
      parts.push_back(s.substr(start, k - start));
      start = k + sep.size();
    }
    parts.push_back(s.substr(start));
  } else {
    size_t end = s.size();
    while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
      if (end < sep.size()) break;
      size_t k = s.rfind(sep, end - sep.size());
      if (k == std::string::npos) break;
      parts.push_back(s.substr(k + sep.size(), end - k - sep.size()));
      end = k;
    }
    parts.push_back(s.substr(0, end));
    std::reverse(parts.begin(), parts.end());
  }
  ValueList out;
  for (auto& p : parts) out.push_back(Value::string(std::move(p)));
  return out;
}

ValueList splitlines(const std::string& s, bool keepends) {
  std::u32string u = unicode::to_u32(s);
  ValueList out;
  size_t start = 0;
  for (size_t i = 0; i < u.size(); ++i) {
    if (!unicode::is_linebreak(u[i])) continue;
    size_t eol = i + 1;
    if (u[i] == '\r' && i + 1 < u.size() && u[i + 1] == '\n') eol = i + 2;
    out.push_back(Value::string(unicode::to_utf8(u.substr(start, (keepends ? eol : i) - start))));
    start = eol;
    i = eol - 1;
  }
  if (start < u.size()) out.push_back(Value::string(unicode::to_utf8(u.substr(start))));
  return out;
}

// The code-point range [start, end) of s selected by optional start/end args.
struct Window {
  std::vector<size_t> off;  // code point -> byte offset
  int64_t a, b;
};

Window window(const std::string& s, const Value* start, const Value* end) {
  Window w{unicode::offsets(s), 0, 0};
  auto n = static_cast<int64_t>(w.off.size()) - 1;
  auto adj = [&](const Value* v, int64_t dflt) {
    if (!v || v->is_none()) return dflt;
    int64_t i = to_index(*v, "slice");
    if (i < 0) i = std::max<int64_t>(0, i + n);
    return std::min(i, n);
  };
  w.a = adj(start, 0);
  w.b = adj(end, n);
  return w;
}

int64_t cp_of(const Window& w, size_t byte) {
  return std::lower_bound(w.off.begin(), w.off.end(), byte) - w.off.begin();
}

Value find(const std::string& s, CallArgs& a, bool reverse, bool raise, const char* func) {
  Params p(func, a, {"sub", "start", "end"});
  const std::string& sub = req_str(p.get(0), func);
  Window w = window(s, p.get(1), p.get(2));
  int64_t result = -1;
  if (w.a <= w.b) {
    std::string_view hay(s.data() + w.off[w.a], w.off[w.b] - w.off[w.a]);
    size_t k = reverse ? hay.rfind(sub) : hay.find(sub);
    if (k != std::string_view::npos) result = cp_of(w, w.off[w.a] + k);
  }
  if (result < 0 && raise) value_error("substring not found");
  return Value::integer(result);
}

Value count(const std::string& s, CallArgs& a) {
  Params p("count", a, {"sub", "start", "end"});
  const std::string& sub = req_str(p.get(0), "count");
  Window w = window(s, p.get(1), p.get(2));
  if (w.a > w.b) return Value::integer(0);
  if (sub.empty()) return Value::integer(w.b - w.a + 1);
  std::string_view hay(s.data() + w.off[w.a], w.off[w.b] - w.off[w.a]);
  int64_t n = 0;
  for (size_t k = hay.find(sub); k != std::string_view::npos; k = hay.find(sub, k + sub.size())) ++n;
  return Value::integer(n);
}

Value affix(const std::string& s, CallArgs& a, bool start, const char* func) {
  Params p(func, a, {"prefix", "start", "end"});
  if (!p.get(0)) type_error(std::string(func) + "() takes at least 1 argument (0 given)");
  Window w = window(s, p.get(1), p.get(2));
  if (w.a > w.b) return Value::boolean(false);
  std::string_view hay(s.data() + w.off[w.a], w.off[w.b] - w.off[w.a]);
  auto test = [&](const Value& v) {
    if (!v.is_string())
      type_error(std::string(func) + " first arg must be str or a tuple of str, not " + type_name(v));
    const std::string& x = v.as_string();
    if (x.size() > hay.size()) return false;
    return start ? hay.compare(0, x.size(), x) == 0 : hay.compare(hay.size() - x.size(), x.size(), x) == 0;
  };
  if (p.get(0)->is_tuple()) {
    for (const Value& v : p.get(0)->as_list())
      if (test(v)) return Value::boolean(true);
    return Value::boolean(false);
  }
  return Value::boolean(test(*p.get(0)));
}

Value replace(Interpreter& in, const std::string& s, CallArgs& a) {
  Params p("replace", a, {"old", "new", "count"});
  const std::string& old = req_str(p.get(0), "replace");
  const std::string& rep = req_str(p.get(1), "replace");
  int64_t limit = p.get(2) ? to_index(*p.get(2), "count") : -1;
  std::string out;
  int64_t n = 0;
  if (old.empty()) {
    auto off = unicode::offsets(s);
    for (size_t i = 0; i + 1 < off.size(); ++i) {
      if (limit < 0 || n < limit) {
        out += rep;
        ++n;
      }
      out.append(s, off[i], off[i + 1] - off[i]);
      in.check_size(out.size());
    }
    if (limit < 0 || n < limit) out += rep;
    return Value::string(std::move(out));
  }
  size_t start = 0;
  for (size_t k = s.find(old); k != std::string::npos && (limit < 0 || n < limit); k = s.find(old, start)) {
    out.append(s, start, k - start);
    out += rep;
    in.check_size(out.size());
    start = k + old.size();
    ++n;
  }
  out.append(s, start);
  return Value::string(std::move(out));
}

std::string justify(const std::string& s, CallArgs& a, char how, const char* func) {
  Params p(func, a, {"width", "fillchar"});
  if (!p.get(0)) type_error(std::string(func) + "() takes at least 1 argument (0 given)");
  int64_t width = to_index(*p.get(0), func);
  std::string fill = " ";
  if (p.get(1)) {
    if (!p.get(1)->is_string() || unicode::length(p.get(1)->as_string()) != 1)
      type_error("The fill character must be exactly one character long");
    fill = p.get(1)->as_string();
  }
  auto len = static_cast<int64_t>(unicode::length(s));
  if (width <= len) return s;
  if (width > (1 << 24)) throw_error("MemoryError", "width too large");
  int64_t marg = width - len, left = 0;
  if (how == '^') left = marg / 2 + (marg & width & 1);
  else if (how == '>') left = marg;
  std::string out;
  for (int64_t i = 0; i < left; ++i) out += fill;
  out += s;
  for (int64_t i = left; i < marg; ++i) out += fill;
  return out;
}

bool all_of(const std::string& s, bool (*pred)(char32_t)) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size();)
    if (!pred(unicode::decode(s, i))) return false;
  return true;
}

// str.isupper / str.islower: at least one cased char and none of the other case.
bool cased_only(const std::string& s, bool upper) {
  bool any = false;
  for (size_t i = 0; i < s.size();) {
    char32_t c = unicode::decode(s, i);
    if (upper ? (unicode::is_lower(c) || unicode::is_title(c)) : (unicode::is_upper(c) || unicode::is_title(c)))
      return false;
    if (upper ? unicode::is_upper(c) : unicode::is_lower(c)) any = true;
  }
  return any;
}

bool istitle(const std::string& s) {
  bool cased = false, prev_cased = false;
  for (size_t i = 0; i < s.size();) {
    char32_t c = unicode::decode(s, i);
    if (unicode::is_upper(c) || unicode::is_title(c)) {
      if (prev_cased) return false;
      prev_cased = cased = true;
    } else if (unicode::is_lower(c)) {
      if (!prev_cased) return false;
      prev_cased = cased = true;
    } else {
      prev_cased = false;
    }
  }
  return cased;
}

Value partition(const std::string& s, CallArgs& a, bool from_right) {
  Params p("partition", a, {"sep"});
  const std::string& sep = req_str(p.get(0), "partition");
  if (sep.empty()) value_error("empty separator");
  size_t k = from_right ? s.rfind(sep) : s.find(sep);
  if (k == std::string::npos) {
    Value e = Value::string("");
    return from_right ? Value::tuple({e, e, Value::string(s)}) : Value::tuple({Value::string(s), e, e});
  }
  return Value::tuple({Value::string(s.substr(0, k)), Value::string(sep), Value::string(s.substr(k + sep.size()))});
}

std::string expandtabs(const Interpreter& in, const std::string& s, int64_t tab) {
  std::string out;
  int64_t col = 0;
  for (size_t i = 0; i < s.size();) {
    char32_t c = unicode::decode(s, i);
    if (c == '\t') {
      if (tab > 0) {
        int64_t n = tab - col % tab;
        in.check_size(out.size() + static_cast<uint64_t>(n));
        out.append(n, ' ');
        col += n;
      }
    } else {
      unicode::append(out, c);
      col = (c == '\n' || c == '\r') ? 0 : col + 1;
    }
  }
  return out;
}

}  // namespace

std::string py_strip(const std::string& s, const std::string* chars, bool left, bool right) {
  return strip(s, chars, left, right);
}
ValueList py_splitlines(const std::string& s, bool keepends) { return splitlines(s, keepends); }

std::string str_format(Interpreter& in, const std::string& fmt, const ValueList& args, const DictData* kwargs,
                       int depth, bool escape);

namespace {

// Markup's overrides: arguments are escaped and string results stay Markup.
Value markup_method(Interpreter& in, const Value& obj, const std::string& name, CallArgs& a) {
  static const std::array<const char*, 19> keeps = {
      "capitalize", "title", "lower", "upper", "replace", "ljust", "rjust", "lstrip", "rstrip", "center",
      "strip", "expandtabs", "swapcase", "zfill", "casefold", "removeprefix", "removesuffix", "join", "translate"};
  const std::string& s = obj.as_string();
  if (name == "format" || name == "format_map") {
    DictData kw;
    for (const auto& [k, v] : a.kwargs) kw.set(Value::string(k), v);
    if (name == "format") return Value::markup(str_format(in, s, a.args, &kw, 0, true));
    if (a.args.size() != 1 || !a.args[0].is_dict()) type_error("format_map() argument must be a mapping");
    return Value::markup(str_format(in, s, {}, &a.args[0].as_dict(), 0, true));
  }
  if (name == "replace" && a.args.size() >= 2) a.args[1] = escape_value(a.args[1]);
  if ((name == "ljust" || name == "rjust" || name == "center") && a.args.size() >= 2) a.args[1] = escape_value(a.args[1]);
  if (name == "join" && a.args.size() == 1) {
    ValueList items;
    for (const Value& v : iterate(a.args[0])) items.push_back(escape_value(v));
    a.args[0] = Value::list(std::move(items));
  }
  Value r = str_method(in, s, name, a);
  auto wrap = [](const Value& v) { return v.is_string() ? Value::markup(v.as_string()) : v; };
  if (std::any_of(keeps.begin(), keeps.end(), [&](const char* n) { return name == n; })) return wrap(r);
  if (r.is_list() || (r.is_tuple() && (name == "partition" || name == "rpartition"))) {
    ValueList items;
    for (const Value& v : r.as_list()) items.push_back(wrap(v));
    return r.is_list() ? Value::list(std::move(items)) : Value::tuple(std::move(items));
  }
  return r;
}

}  // namespace

std::optional<Value> str_attr(const Value& obj, const std::string& name) {
  if (std::none_of(kStrMethods.begin(), kStrMethods.end(), [&](const char* n) { return name == n; }))
    return std::nullopt;
  return make_function(name, [obj, name](Interpreter& in, CallArgs& a) {
    return obj.is_markup() ? markup_method(in, obj, name, a) : str_method(in, obj.as_string(), name, a);
  });
}

Value str_method(Interpreter& in, const std::string& s, const std::string& name, CallArgs& a) {
  auto no_args = [&]() { Params p(name.c_str(), a, {}); };
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    Params p(name.c_str(), a, {"chars"});
    return Value::string(strip(s, opt_str(p.get(0), name.c_str()), name != "rstrip", name != "lstrip"));
  }
  if (name == "split" || name == "rsplit") {
    Params p(name.c_str(), a, {"sep", "maxsplit"});
    const std::string* sep = opt_str(p.get(0), "sep");
    int64_t maxsplit = p.get(1) ? to_index(*p.get(1), "maxsplit") : -1;
    ValueList parts = sep ? split_sep(s, *sep, maxsplit, name == "rsplit") : split_ws(s, maxsplit, name == "rsplit");
    return Value::list(std::move(parts));
  }
  if (name == "splitlines") {
    Params p(name.c_str(), a, {"keepends"});
    return Value::list(splitlines(s, p.get(0) && truthy(*p.get(0))));
  }
  if (name == "startswith" || name == "endswith") return affix(s, a, name == "startswith", name.c_str());
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex")
    return find(s, a, name[0] == 'r', name.find("index") != std::string::npos, name.c_str());
  if (name == "count") return count(s, a);
  if (name == "replace") return replace(in, s, a);
  if (name == "join") {
    Params p("join", a, {"iterable"});
    if (!p.get(0)) type_error("str.join() takes exactly one argument (0 given)");
    auto items = iterate(*p.get(0));
    std::string out;
    for (size_t i = 0; i < items->size(); ++i) {
      const Value& v = (*items)[i];
      if (!v.is_string())
        type_error("sequence item " + std::to_string(i) + ": expected str instance, " + type_name(v) + " found");
      if (i) out += s;
      out += v.as_string();
      in.check_size(out.size());
    }
    return Value::string(std::move(out));
  }
  if (name == "format") {
    DictData kw;
    for (const auto& [k, v] : a.kwargs) kw.set(Value::string(k), v);
    return Value::string(str_format(in, s, a.args, &kw, 0, false));
  }
  if (name == "format_map") {
    if (!a.kwargs.empty()) type_error("format_map() takes no keyword arguments");
    if (a.args.size() != 1) type_error("format_map() takes exactly one argument (" + std::to_string(a.args.size()) + " given)");
    if (!a.args[0].is_dict()) type_error("format_map() argument must be a mapping");
    return Value::string(str_format(in, s, {}, &a.args[0].as_dict(), 0, false));
  }
  if (name == "center" || name == "ljust" || name == "rjust")
    return Value::string(justify(s, a, name == "center" ? '^' : name == "ljust" ? '<' : '>', name.c_str()));
  if (name == "zfill") {
    Params p("zfill", a, {"width"});
    if (!p.get(0)) type_error("zfill() takes exactly one argument (0 given)");
    int64_t width = to_index(*p.get(0), "zfill");
    auto len = static_cast<int64_t>(unicode::length(s));
    if (width <= len) return Value::string(s);
    if (width > (1 << 24)) throw_error("MemoryError", "width too large");
    bool sign = !s.empty() && (s[0] == '+' || s[0] == '-');
    return Value::string((sign ? s.substr(0, 1) : "") + std::string(width - len, '0') + s.substr(sign ? 1 : 0));
  }
  if (name == "partition" || name == "rpartition") return partition(s, a, name == "rpartition");
  if (name == "removeprefix" || name == "removesuffix") {
    Params p(name.c_str(), a, {"affix"});
    const std::string& x = req_str(p.get(0), name.c_str());
    if (name == "removeprefix") return Value::string(s.compare(0, x.size(), x) == 0 ? s.substr(x.size()) : s);
    bool ends = s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
    return Value::string(ends && !x.empty() ? s.substr(0, s.size() - x.size()) : s);
  }
  if (name == "expandtabs") {
    Params p("expandtabs", a, {"tabsize"});
    return Value::string(expandtabs(in, s, p.get(0) ? to_index(*p.get(0), "tabsize") : 8));
  }
  if (name == "encode" || name == "translate") type_error("str." + name + "() is not supported in templates");
  no_args();
  if (name == "upper") return Value::string(unicode::upper(s));
  if (name == "lower") return Value::string(unicode::lower(s));
  if (name == "title") return Value::string(unicode::title(s));
  if (name == "capitalize") return Value::string(unicode::capitalize(s));
  if (name == "swapcase") return Value::string(unicode::swapcase(s));
  if (name == "casefold") return Value::string(unicode::casefold(s));
  if (name == "isdigit") return Value::boolean(all_of(s, unicode::is_digit));
  if (name == "isdecimal") return Value::boolean(all_of(s, unicode::is_decimal));
  if (name == "isnumeric") return Value::boolean(all_of(s, unicode::is_numeric));
  if (name == "isalpha") return Value::boolean(all_of(s, unicode::is_alpha));
  if (name == "isalnum")
    return Value::boolean(all_of(s, [](char32_t c) { return unicode::is_alpha(c) || unicode::is_numeric(c) || unicode::is_digit(c); }));
  if (name == "isspace") return Value::boolean(all_of(s, unicode::is_space));
  if (name == "isupper") return Value::boolean(cased_only(s, true));
  if (name == "islower") return Value::boolean(cased_only(s, false));
  if (name == "istitle") return Value::boolean(istitle(s));
  if (name == "isascii") return Value::boolean(unicode::is_ascii(s));
  if (name == "isprintable") return Value::boolean(s.empty() || all_of(s, unicode::is_printable));
  if (name == "isidentifier") {
    if (s.empty()) return Value::boolean(false);
    size_t i = 0;
    char32_t first = unicode::decode(s, i);
    bool ok = first == '_' || unicode::is_alpha(first);
    while (ok && i < s.size()) ok = unicode::is_identifier_char(unicode::decode(s, i));
    return Value::boolean(ok);
  }
  type_error("str has no method " + name);
}

}  // namespace uma::text::jinja
