// Jinja2's string and number filters, and the registry of all filters.
#include <cmath>
#include <cstdio>

#include "uma/text/jinja/filters_impl.h"
#include "uma/text/jinja/json.h"
#include "uma/text/jinja/ops.h"
#include "uma/text/jinja/pyformat.h"
#include "uma/text/jinja/unicode.h"

namespace uma::text::jinja {

namespace {

Value str_value(std::string s) { return Value::string(std::move(s)); }

Value f_string(Interpreter&, const Value& v, CallArgs& a) {
  Params p("string", a, {});
  return v.is_string() ? v : str_value(to_str(v));
}

// soft_str(v).method(): Markup input stays Markup.
Value like(const Value& v, std::string s) { return v.is_markup() ? Value::markup(std::move(s)) : str_value(std::move(s)); }

Value f_upper(Interpreter&, const Value& v, CallArgs& a) {
  Params p("upper", a, {});
  return like(v, unicode::upper(to_str(v)));
}

Value f_lower(Interpreter&, const Value& v, CallArgs& a) {
  Params p("lower", a, {});
  return like(v, unicode::lower(to_str(v)));
}

Value f_capitalize(Interpreter&, const Value& v, CallArgs& a) {
  Params p("capitalize", a, {});
  return like(v, unicode::capitalize(to_str(v)));
}

// Jinja's title: split on runs of [-\s({\[<], upper first char, lower the rest.
Value f_title(Interpreter&, const Value& v, CallArgs& a) {
  Params p("title", a, {});
  std::u32string u = unicode::to_u32(to_str(v)), out;
  auto delim = [](char32_t c) {
    return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || unicode::is_space(c);
  };
  for (size_t i = 0; i < u.size();) {
    bool d = delim(u[i]);
    size_t j = i;
    while (j < u.size() && delim(u[j]) == d) ++j;
    unicode::append_upper(out, u[i]);
    for (size_t k = i + 1; k < j; ++k) unicode::append_lower(out, u[k]);
    i = j;
  }
  return str_value(unicode::to_utf8(out));
}

Value f_trim(Interpreter&, const Value& v, CallArgs& a) {
  Params p("trim", a, {"chars"});
  const Value* chars = p.get(0);
  std::string set = chars && !chars->is_none() ? to_str(*chars) : std::string();
  return like(v, py_strip(to_str(v), chars && !chars->is_none() ? &set : nullptr, true, true));
}

Value f_replace(Interpreter& in, const Value& v, CallArgs& a) {
  Params p("replace", a, {"old", "new", "count"});
  if (!p.get(0) || !p.get(1)) type_error("do_replace() missing required arguments 'old' and 'new'");
  CallArgs inner;
  inner.args = {str_value(to_str(*p.get(0))), str_value(to_str(*p.get(1)))};
  if (p.get(2) && !p.get(2)->is_none()) inner.args.push_back(*p.get(2));
  return str_method(in, to_str(v), "replace", inner);
}

Value f_center(Interpreter& in, const Value& v, CallArgs& a) {
  Params p("center", a, {"width"});
  CallArgs inner;
  inner.args = {p.get_or(0, Value::integer(80))};
  return like(v, str_method(in, to_str(v), "center", inner).as_string());
}

Value f_escape(Interpreter&, const Value& v, CallArgs& a) {
  Params p("escape", a, {});
  return escape_value(v);
}

Value f_forceescape(Interpreter&, const Value& v, CallArgs& a) {
  Params p("forceescape", a, {});
  return Value::markup(html_escape(to_str(v)));
}

Value f_safe(Interpreter&, const Value& v, CallArgs& a) {
  Params p("safe", a, {});
  return v.is_markup() ? v : Value::markup(to_str(v));
}

Value f_indent(Interpreter& in, const Value& v, CallArgs& a) {
  Params p("indent", a, {"width", "first", "blank"});
  if (v.is_undefined()) fail_undefined(v);
  if (v.is_list()) throw_error("AttributeError", "'list' object has no attribute 'splitlines'");
  if (v.is_tuple()) type_error("can only concatenate tuple (not \"str\") to tuple");
  if (!v.is_string()) type_error(std::string("unsupported operand type(s) for +=: '") + type_name(v) + "' and 'str'");
  std::string indention;
  const Value* w = p.get(0);
  if (w && w->is_string()) indention = w->as_string();
  else {
    int64_t width = std::max<int64_t>(0, w ? to_index(*w, "width") : 4);
    in.check_size(static_cast<uint64_t>(width));
    indention = std::string(static_cast<size_t>(width), ' ');
  }
  bool first = p.get(1) && truthy(*p.get(1));
  bool blank = p.get(2) && truthy(*p.get(2));
  ValueList lines = py_splitlines(v.as_string() + "\n", false);
  std::string rv;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i) rv += '\n' + indention;
      rv += lines[i].as_string();
      in.check_size(rv.size());
    }
  } else {
    rv = lines.empty() ? "" : lines[0].as_string();
    for (size_t i = 1; i < lines.size(); ++i) {
      const std::string& line = lines[i].as_string();
      rv += '\n';
      if (!line.empty()) rv += indention;
      rv += line;
      in.check_size(rv.size());
    }
  }
  if (first) rv = indention + rv;
  return like(v, std::move(rv));
}

Value f_truncate(Interpreter&, const Value& v, CallArgs& a) {
  Params p("truncate", a, {"length", "killwords", "end", "leeway"});
  int64_t length = p.get(0) ? to_index(*p.get(0), "length") : 255;
  bool killwords = p.get(1) && truthy(*p.get(1));
  std::string end = p.get(2) ? to_str(*p.get(2)) : "...";
  int64_t leeway = p.get(3) && !p.get(3)->is_none() ? to_index(*p.get(3), "leeway") : 5;
  auto end_len = static_cast<int64_t>(unicode::length(end));
  if (length < end_len)
    throw_error("AssertionError", "expected length >= " + std::to_string(end_len) + ", got " + std::to_string(length));
  if (leeway < 0) throw_error("AssertionError", "expected leeway >= 0, got " + std::to_string(leeway));
  if (!v.is_string()) {  // do_truncate does not stringify: len() and slicing decide
    if (py_len(v) <= length + leeway) return v;
    if (killwords) type_error(std::string("can only concatenate ") + type_name(v) + " (not \"str\") to " + type_name(v));
    throw_error("AttributeError", std::string("'") + type_name(v) + "' object has no attribute 'rsplit'");
  }
  const std::string& s = v.as_string();
  auto off = unicode::offsets(s);
  auto n = static_cast<int64_t>(off.size()) - 1;
  if (n <= length + leeway) return v;
  std::string head = s.substr(0, off[length - end_len]);
  if (!killwords) {
    size_t sp = head.rfind(' ');
    if (sp != std::string::npos) head.resize(sp);
  }
  return v.is_markup() ? Value::markup(head + html_escape(end)) : str_value(head + end);
}

Value f_wordcount(Interpreter&, const Value& v, CallArgs& a) {
  Params p("wordcount", a, {});
  std::string s = to_str(v);
  int64_t n = 0;
  bool in_word = false;
  for (size_t i = 0; i < s.size();) {
    bool w = unicode::is_word(unicode::decode(s, i));
    if (w && !in_word) ++n;
    in_word = w;
  }
  return Value::integer(n);
}

std::string html_unescape(const std::string& s) {
  static const std::pair<const char*, const char*> named[] = {
      {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}, {"nbsp", "\xc2\xa0"}};
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '&') {
      size_t semi = s.find(';', i);
      if (semi != std::string::npos && semi - i <= 10) {
        std::string ent = s.substr(i + 1, semi - i - 1);
        bool done = false;
        if (!ent.empty() && ent[0] == '#') {
          bool hex = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X');
          std::string digits = ent.substr(hex ? 2 : 1);
          if (!digits.empty() && digits.find_first_not_of(hex ? "0123456789abcdefABCDEF" : "0123456789") == std::string::npos) {
            unicode::append(out, static_cast<char32_t>(std::min<unsigned long>(std::stoul(digits.substr(0, 8), nullptr, hex ? 16 : 10), 0x10FFFF)));
            done = true;
          }
        } else {
          for (const auto& [k, r] : named)
            if (ent == k) {
              out += r;
              done = true;
            }
        }
        if (done) {
          i = semi;
          continue;
        }
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

Value f_striptags(Interpreter& in, const Value& v, CallArgs& a) {
  Params p("striptags", a, {});
  std::string s = to_str(v);
  for (size_t start; (start = s.find("<!--")) != std::string::npos;) {
    size_t end = s.find("-->", start);
    if (end == std::string::npos) break;
    s.erase(start, end + 3 - start);
  }
  for (size_t start; (start = s.find('<')) != std::string::npos;) {
    size_t end = s.find('>', start);
    if (end == std::string::npos) break;
    s.erase(start, end + 1 - start);
  }
  CallArgs none;
  Value words = str_method(in, s, "split", none);
  std::string joined;
  for (const Value& w : words.as_list()) joined += (joined.empty() ? "" : " ") + w.as_string();
  return str_value(html_unescape(joined));
}

Value f_format(Interpreter&, const Value& v, CallArgs& a) {
  if (!a.args.empty() && !a.kwargs.empty())
    throw_error("FilterArgumentError", "can't handle positional and keyword arguments at the same time");
  if (!a.kwargs.empty()) {
    DictData d;
    for (const auto& [k, x] : a.kwargs) d.set(Value::string(k), x);
    return like(v, percent_format(to_str(v), Value::dict(std::move(d)), v.is_markup()));
  }
  return like(v, percent_format(to_str(v), Value::tuple(a.args), v.is_markup()));
}

Value f_tojson(Interpreter& in, const Value& v, CallArgs& a) {
  Params p("tojson", a, {"ensure_ascii", "indent", "separators", "sort_keys"});
  DumpOptions o;
  o.ensure_ascii = p.get(0) && truthy(*p.get(0));
  if (const Value* ind = p.get(1); ind && !ind->is_none()) {
    if (ind->is_string()) o.indent = ind->as_string();
    else if (ind->is_integral()) o.indent = std::string(static_cast<size_t>(std::clamp<int64_t>(ind->as_int(), 0, 1 << 16)), ' ');
    else type_error(std::string("can't multiply sequence by non-int of type '") + type_name(*ind) + "'");
  }
  if (const Value* sep = p.get(2); sep && !sep->is_none()) {
    auto parts = iterate(*sep);
    if (parts->size() != 2)
      value_error("too many values to unpack (expected 2)");
    o.item_separator = to_str((*parts)[0]);
    o.key_separator = to_str((*parts)[1]);
  } else if (o.indent) {
    o.item_separator.assign(1, ',');
  }
  o.sort_keys = p.get(3) && truthy(*p.get(3));
  o.max_bytes = in.config().max_output_bytes;
  std::string out = json_dumps(v, o);
  in.check_size(out.size());
  return str_value(std::move(out));
}

}  // namespace

void add_text_filters(FilterTable& t) {
  t["string"] = f_string;
  t["upper"] = f_upper;
  t["lower"] = f_lower;
  t["capitalize"] = f_capitalize;
  t["title"] = f_title;
  t["trim"] = f_trim;
  t["replace"] = f_replace;
  t["center"] = f_center;
  t["e"] = f_escape;
  t["escape"] = f_escape;
  t["forceescape"] = f_forceescape;
  t["safe"] = f_safe;
  t["indent"] = f_indent;
  t["truncate"] = f_truncate;
  t["wordcount"] = f_wordcount;
  t["striptags"] = f_striptags;
  t["format"] = f_format;
  t["tojson"] = f_tojson;
}

}  // namespace uma::text::jinja
