#include "uma/text/jinja/json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "uma/text/jinja/pyformat.h"
#include "uma/text/jinja/unicode.h"

namespace uma::text::jinja {

namespace {

constexpr int kMaxDepth = 512;

Value from_json_at(const nlohmann::ordered_json& j, int depth) {
  if (depth > kMaxDepth) throw_error("RecursionError", "JSON input nested too deeply");
  using T = nlohmann::ordered_json::value_t;
  switch (j.type()) {
    case T::null: case T::discarded: return Value::none();
    case T::boolean: return Value::boolean(j.get<bool>());
    case T::number_integer: return Value::integer(j.get<int64_t>());
    case T::number_unsigned: {
      auto u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value::floating(static_cast<double>(u));
      return Value::integer(static_cast<int64_t>(u));
    }
    case T::number_float: return Value::floating(j.get<double>());
    case T::string: return Value::string(j.get<std::string>());
    case T::array: {
      ValueList items;
      items.reserve(j.size());
      for (const auto& x : j) items.push_back(from_json_at(x, depth + 1));
      return Value::list(std::move(items));
    }
    case T::object: {
      DictData d;
      for (const auto& [k, x] : j.items()) d.append_unique(Value::string(k), from_json_at(x, depth + 1));
      return Value::dict(std::move(d));
    }
    case T::binary: type_error("binary JSON values are not supported");
  }
  return Value::none();
}

void dump_string(std::string& out, std::string_view s, bool ensure_ascii) {
  out.push_back('"');
  char buf[16];
  for (size_t i = 0; i < s.size();) {
    char32_t c = unicode::decode(s, i);
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (c < 0x20 || (ensure_ascii && c >= 0x7F)) {
      if (c >= 0x10000) {
        char32_t v = c - 0x10000;
        std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", static_cast<unsigned>(0xD800 + (v >> 10)),
                      static_cast<unsigned>(0xDC00 + (v & 0x3FF)));
      } else {
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      }
      out += buf;
    } else {
      unicode::append(out, c);
    }
  }
  out.push_back('"');
}

std::string float_json(double f) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "Infinity" : "-Infinity";
  return float_repr(f);
}

struct Dumper {
  const DumpOptions& o;
  std::string out;

  void newline(int level) {
    if (out.size() + o.indent->size() * level > o.max_bytes) throw_error("MemoryError", "JSON output exceeds the output limit");
    out.push_back('\n');
    for (int i = 0; i < level; ++i) out += *o.indent;
  }

  std::string key_text(const Value& k) {
    switch (k.kind()) {
      case Kind::string: return k.as_string();
      case Kind::floating: return float_json(k.as_float());
      case Kind::boolean: return k.as_bool() ? "true" : "false";
      case Kind::none: return "null";
      case Kind::integer: return int_to_string(k.as_int());
      default:
        type_error(std::string("keys must be str, int, float, bool or None, not ") + type_name(k));
    }
  }

  void dump(const Value& v, int level) {
    if (level > kMaxDepth) throw_error("RecursionError", "maximum recursion depth exceeded while encoding a JSON object");
    switch (v.kind()) {
      case Kind::none: out += "null"; return;
      case Kind::boolean: out += v.as_bool() ? "true" : "false"; return;
      case Kind::integer: out += int_to_string(v.as_int()); return;
      case Kind::floating: out += float_json(v.as_float()); return;
      case Kind::string: dump_string(out, v.as_string(), o.ensure_ascii); return;
      case Kind::list: case Kind::tuple: {
        const ValueList& items = v.as_list();
        if (items.empty()) {
          out += "[]";
          return;
        }
        out.push_back('[');
        for (size_t i = 0; i < items.size(); ++i) {
          if (i > 0) out += o.item_separator;
          if (o.indent) newline(level + 1);
          dump(items[i], level + 1);
        }
        if (o.indent) newline(level);
        out.push_back(']');
        return;
      }
      case Kind::dict: {
        const auto& src = v.as_dict().items();
        if (src.empty()) {
          out += "{}";
          return;
        }
        std::vector<const std::pair<Value, Value>*> items;
        for (const auto& kv : src) items.push_back(&kv);
        if (o.sort_keys)
          std::stable_sort(items.begin(), items.end(),
                           [](auto* a, auto* b) { return compare(a->first, b->first, "<"); });
        out.push_back('{');
        bool first = true;
        for (const auto* kv : items) {
          if (!first) out += o.item_separator;
          first = false;
          if (o.indent) newline(level + 1);
          dump_string(out, key_text(kv->first), o.ensure_ascii);
          out += o.key_separator;
          dump(kv->second, level + 1);
        }
        if (o.indent) newline(level);
        out.push_back('}');
        return;
      }
      default:
        type_error(std::string("Object of type ") + type_name(v) + " is not JSON serializable");
    }
  }
};

}  // namespace

Value from_json(const nlohmann::ordered_json& j) { return from_json_at(j, 0); }

std::string json_dumps(const Value& v, const DumpOptions& options) {
  Dumper d{options, {}};
  d.dump(v, 0);
  return std::move(d.out);
}

}  // namespace uma::text::jinja
