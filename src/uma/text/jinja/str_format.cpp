// str.format / str.format_map with the sandbox's attribute and item lookup.
#include "uma/text/jinja/builtins.h"
#include "uma/text/jinja/pyformat.h"

namespace uma::text::jinja {

namespace {

struct FieldState {
  enum Mode { unknown, automatic, manual } mode = unknown;
  size_t next = 0;
};

Value resolve_field(Interpreter& in, std::string_view name, const ValueList& args, const DictData* kwargs,
                    FieldState& st) {
  size_t i = 0;
  while (i < name.size() && name[i] != '.' && name[i] != '[') ++i;
  std::string_view first = name.substr(0, i);
  Value obj;
  bool numeric = !first.empty() && first.find_first_not_of("0123456789") == std::string_view::npos;
  if (first.empty() || numeric) {
    size_t idx;
    if (first.empty()) {
      if (st.mode == FieldState::manual)
        value_error("cannot switch from manual field specification to automatic field numbering");
      st.mode = FieldState::automatic;
      idx = st.next++;
    } else {
      if (st.mode == FieldState::automatic)
        value_error("cannot switch from automatic field numbering to manual field specification");
      st.mode = FieldState::manual;
      idx = std::stoul(std::string(first.substr(0, 9)));
    }
    if (idx >= args.size())
      throw_error("IndexError", "tuple index out of range");
    obj = args[idx];
  } else {
    const Value* v = kwargs ? kwargs->find(first) : nullptr;
    if (!v) throw_error("KeyError", "'" + std::string(first) + "'");
    obj = *v;
  }
  while (i < name.size()) {
    if (name[i] == '.') {
      size_t j = ++i;
      while (j < name.size() && name[j] != '.' && name[j] != '[') ++j;
      if (j == i) value_error("Empty attribute in format string");
      obj = in.getattr(obj, std::string(name.substr(i, j - i)));
      i = j;
    } else {  // '['
      size_t close = name.find(']', i);
      if (close == std::string_view::npos) value_error("Missing ']' in format string");
      std::string_view key = name.substr(i + 1, close - i - 1);
      if (key.empty()) value_error("Empty attribute in format string");
      bool digits = key.find_first_not_of("0123456789") == std::string_view::npos;
      obj = in.getitem(obj, digits ? Value::integer(std::stoll(std::string(key.substr(0, 18))))
                                   : Value::string(std::string(key)));
      i = close + 1;
      if (i < name.size() && name[i] != '.' && name[i] != '[')
        value_error("Only '.' or '[' may follow ']' in format field specifier");
    }
  }
  return obj;
}

}  // namespace

std::string str_format(Interpreter& in, const std::string& fmt, const ValueList& args, const DictData* kwargs,
                       int depth, bool escape) {
  if (depth > 2) value_error("Max string recursion exceeded");
  FieldState st;
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') {
        out.push_back('}');
        ++i;
        continue;
      }
      value_error("Single '}' encountered in format string");
    }
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out.push_back('{');
      ++i;
      continue;
    }
    // Find the matching close brace, allowing nested fields in the spec.
    size_t j = i + 1;
    int nest = 1;
    bool in_bracket = false;
    for (; j < fmt.size(); ++j) {
      if (fmt[j] == '[') in_bracket = true;
      else if (fmt[j] == ']') in_bracket = false;
      else if (!in_bracket && fmt[j] == '{') ++nest;
      else if (!in_bracket && fmt[j] == '}' && --nest == 0) break;
    }
    if (j >= fmt.size()) value_error("expected '}' before end of string");
    std::string_view field(fmt.data() + i + 1, j - i - 1);
    size_t k = 0;
    in_bracket = false;
    for (; k < field.size(); ++k) {
      if (field[k] == '[') in_bracket = true;
      else if (field[k] == ']') in_bracket = false;
      else if (!in_bracket && (field[k] == '!' || field[k] == ':')) break;
    }
    std::string_view name = field.substr(0, k);
    char conversion = 0;
    std::string spec;
    if (k < field.size() && field[k] == '!') {
      if (k + 1 >= field.size()) value_error("end of string while looking for conversion specifier");
      conversion = field[k + 1];
      k += 2;
      if (k < field.size() && field[k] != ':') value_error("expected ':' after conversion specifier");
    }
    if (k < field.size() && field[k] == ':') spec = std::string(field.substr(k + 1));
    if (spec.find('{') != std::string::npos) spec = str_format(in, spec, args, kwargs, depth + 1, false);
    Value v = resolve_field(in, name, args, kwargs, st);
    if (conversion == 'r' || conversion == 'a') v = Value::string(repr(v));
    else if (conversion == 's') v = Value::string(to_str(v));
    else if (conversion) value_error(std::string("Unknown conversion specifier ") + conversion);
    if (escape && v.is_markup() && !spec.empty())
      value_error("Format specifier " + spec + " given, but <class 'markupsafe.Markup'> does not define __html_format__.");
    std::string field_text = format_with_spec(v, spec);
    out += escape && !v.is_markup() ? html_escape(field_text) : field_text;
    in.check_size(out.size());
    i = j;
  }
  return out;
}

}  // namespace uma::text::jinja
