#include "uma/text/grammar/json_schema.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <map>
#include <set>
#include <stdexcept>
#include <vector>

#include "uma/text/grammar/gbnf_text.h"
#include "uma/text/grammar/utf8.h"

namespace uma::text::grammar {

namespace {

using json = nlohmann::ordered_json;

// The building blocks, each value rule ending in its own trailing space.
const std::vector<std::pair<std::string, std::string>> kPrimitives = {
    {"ws", R"("" | " " | "\n" [ \t]{0,20})"},
    // No \u escapes of surrogates: a lone one is not a character (nor valid
    // to most JSON parsers); such characters are written raw instead.
    {"char", R"([^"\\\x00-\x1F] | "\\" (["\\/bfnrt] | "u" ([0-9a-cA-Ce-fE-F] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2})))"},
    {"string", R"("\"" char* "\"" ws)"},
    {"integer", R"("-"? ("0" | [1-9] [0-9]{0,15}) ws)"},
    {"number", R"("-"? ("0" | [1-9] [0-9]{0,15}) ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,2})? ws)"},
    {"boolean", R"(("true" | "false") ws)"},
    {"null", R"("null" ws)"},
    {"value", R"(object | array | string | number | boolean | null)"},
    {"object", R"("{" ws (string ":" ws value ("," ws string ":" ws value)*)? "}" ws)"},
    {"array", R"("[" ws (value ("," ws value)*)? "]" ws)"},
    {"date", R"([0-9]{4} "-" ("0" [1-9] | "1" [0-2]) "-" ("0" [1-9] | [1-2] [0-9] | "3" [0-1]))"},
    {"time", R"(([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ("." [0-9]{1,6})? ("Z" | [+-] ([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9]))"},
    {"date-time", R"(date "T" time)"},
    {"uuid", R"([0-9a-fA-F]{8} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{12})"},
};
const std::map<std::string, std::vector<std::string>> kUses = {
    {"char", {}}, {"string", {"char", "ws"}}, {"integer", {"ws"}}, {"number", {"ws"}}, {"boolean", {"ws"}},
    {"null", {"ws"}}, {"value", {"object", "array", "string", "number", "boolean", "null"}},
    {"object", {"ws", "string", "value"}}, {"array", {"ws", "value"}}, {"date-time", {"date", "time"}},
};

const std::set<std::string> kAnnotations = {"title", "description", "default", "examples", "$schema", "$id",
                                            "$comment", "deprecated", "readOnly", "writeOnly", "$defs",
                                            "definitions", "contentMediaType", "contentEncoding", "$anchor"};
const std::set<std::string> kHandled = {
    "type", "nullable", "const", "enum", "anyOf", "oneOf", "allOf", "$ref", "properties", "required",
    "additionalProperties", "items", "prefixItems", "minItems", "maxItems", "minLength", "maxLength", "pattern",
    "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"};

const std::string kQuote = R"("\"")";
constexpr size_t kMaxEnum = 100000, kMaxLiteral = 4096;

std::string alternatives(const std::vector<std::string>& parts) {
  if (parts.size() == 1) return parts[0];
  std::string out = "(";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? " | " : "") + parts[i];
  return out + ")";
}

class SchemaCompiler {
 public:
  SchemaCompiler(const json& root, const JsonSchemaOptions& o) : root_(root), o_(o) {
    for (auto& [name, body] : kPrimitives) used_.insert(name);
    used_.insert("root");
  }

  std::string compile() {
    std::string body = visit(root_, "root", "", 0);
    // No whitespace after the document: the answer ends at its last brace.
    const std::string tail = " " + prim("ws");
    if (body.size() > tail.size() && body.compare(body.size() - tail.size(), tail.size(), tail) == 0) {
      body.resize(body.size() - tail.size());
    }
    std::string out = "root ::= " + body + "\n";
    for (auto& [name, rule] : order_) out += name + " ::= " + *rule + "\n";
    for (auto& [name, rule] : kPrimitives) {
      if (prims_.count(name)) out += name + " ::= " + rule + "\n";
    }
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    throw std::invalid_argument("[json_schema_to_grammar] at " + (path.empty() ? std::string("/") : path) + ": " +
                                what);
  }

  std::string prim(const std::string& name) {
    if (prims_.insert(name).second) {
      auto it = kUses.find(name);
      if (it != kUses.end()) {
        for (auto& dep : it->second) prim(dep);
      }
    }
    return name;
  }

  std::string reserve(const std::string& hint) {
    std::string base;
    for (char c : hint) base += (std::isalnum(uint8_t(c)) || c == '-') ? c : '-';
    if (base.empty()) base = "r";
    base = base.substr(0, 48);
    std::string name = base;
    for (int i = 1; used_.count(name); ++i) name = base + "-" + std::to_string(i);
    used_.insert(name);
    bodies_.push_back(std::make_unique<std::string>());
    order_.emplace_back(name, bodies_.back().get());
    return name;
  }

  // A rule for `body` (the same body gets the same rule).
  std::string rule(const std::string& hint, const std::string& body) {
    auto it = by_body_.find(body);
    if (it != by_body_.end()) return it->second;
    std::string name = reserve(hint);
    *order_.back().second = body;
    by_body_.emplace(body, name);
    return name;
  }

  std::string visit(const json& s, const std::string& hint, const std::string& path, int depth) {
    if (depth > o_.max_depth) fail(path, "schemas nested deeper than " + std::to_string(o_.max_depth));
    if (s.is_boolean()) {
      if (!s.get<bool>()) fail(path, "the schema false allows nothing");
      return prim("value");
    }
    if (!s.is_object()) fail(path, "a schema must be an object or a boolean, got " + s.dump());
    for (auto& [k, v] : s.items()) {
      if (!kHandled.count(k) && !kAnnotations.count(k)) {
        fail(path, "unsupported keyword '" + k + "' (it cannot be enforced while generating)");
      }
    }
    std::string out = visit_value(s, hint, path, depth);
    if (s.contains("nullable") && s["nullable"] == true) out = "(" + out + " | " + prim("null") + ")";
    return out;
  }

  std::string visit_value(const json& s, const std::string& hint, const std::string& path, int depth) {
    if (s.contains("$ref")) return ref(s, path, depth);
    if (s.contains("const")) return literal_set({s["const"]}, path) + " " + prim("ws");
    if (s.contains("enum")) return enum_values(s, path);
    for (const char* key : {"anyOf", "oneOf"}) {
      if (!s.contains(key)) continue;
      const json& list = s[key];
      if (!list.is_array() || list.empty()) fail(path + "/" + key, "must be a non-empty list of schemas");
      std::vector<std::string> parts;
      for (size_t i = 0; i < list.size(); ++i) {
        parts.push_back(visit(list[i], hint + "-" + std::to_string(i), path + "/" + key + "/" + std::to_string(i),
                              depth + 1));
      }
      return alternatives(parts);
    }
    if (s.contains("allOf")) return all_of(s, hint, path, depth);
    if (s.contains("type")) {
      const json& t = s["type"];
      if (t.is_array()) {
        if (t.empty()) fail(path + "/type", "must not be an empty list");
        std::vector<std::string> parts;
        for (auto& one : t) {
          if (!one.is_string()) fail(path + "/type", "must be a type name or a list of them");
          parts.push_back(typed(s, one.get<std::string>(), hint, path, depth));
        }
        return alternatives(parts);
      }
      if (!t.is_string()) fail(path + "/type", "must be a type name or a list of them");
      return typed(s, t.get<std::string>(), hint, path, depth);
    }
    for (const char* k : {"properties", "additionalProperties", "required"}) {
      if (s.contains(k)) return typed(s, "object", hint, path, depth);
    }
    for (const char* k : {"items", "prefixItems", "minItems", "maxItems"}) {
      if (s.contains(k)) return typed(s, "array", hint, path, depth);
    }
    for (const char* k : {"minLength", "maxLength", "pattern", "format"}) {
      if (s.contains(k)) return typed(s, "string", hint, path, depth);
    }
    for (const char* k : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}) {
      if (s.contains(k)) return typed(s, "number", hint, path, depth);
    }
    return prim("value");
  }

  std::string typed(const json& s, const std::string& type, const std::string& hint, const std::string& path,
                    int depth) {
    if (type == "object") return object({&s}, hint, path, depth);
    if (type == "array") return array(s, hint, path, depth);
    if (type == "string") return string(s, path);
    if (type == "integer") return integer(s, path);
    if (type == "number") return number(s, path);
    if (type == "boolean" || type == "null") return prim(type);
    fail(path + "/type", "unknown type '" + type + "'");
  }

  const json& resolve(const json& s, const std::string& path) const {
    const json& r = s["$ref"];
    if (!r.is_string()) fail(path + "/$ref", "must be a string");
    std::string ref = r.get<std::string>();
    if (ref.empty() || ref[0] != '#') fail(path + "/$ref", "only local references (#/...) are supported, got '" + ref + "'");
    try {
      const json& target = root_.at(json::json_pointer(ref.substr(1)));
      return target;
    } catch (const std::exception&) {
      fail(path + "/$ref", "'" + ref + "' does not resolve in the schema");
    }
  }

  std::string ref(const json& s, const std::string& path, int depth) {
    for (auto& [k, v] : s.items()) {
      if (k != "$ref" && !kAnnotations.count(k)) fail(path, "'" + k + "' beside $ref is not supported");
    }
    const std::string ref = s["$ref"].is_string() ? s["$ref"].get<std::string>() : "";
    auto it = refs_.find(ref);
    if (it != refs_.end()) return it->second;
    const json& target = resolve(s, path);
    std::string name = reserve(ref.substr(ref.find_last_of('/') + 1));
    std::string* body = order_.back().second;
    refs_.emplace(ref, name);  // before the body: recursive references find it
    *body = visit(target, name, ref.substr(1), depth + 1);
    return name;
  }

  std::string all_of(const json& s, const std::string& hint, const std::string& path, int depth) {
    const json& list = s["allOf"];
    if (!list.is_array() || list.empty()) fail(path + "/allOf", "must be a non-empty list of schemas");
    std::vector<const json*> parts;
    if (s.contains("properties") || s.contains("required") || s.contains("additionalProperties")) parts.push_back(&s);
    for (size_t i = 0; i < list.size(); ++i) {
      const json* p = &list[i];
      for (int hops = 0; p->is_object() && p->contains("$ref"); ++hops) {
        if (hops > 32) fail(path + "/allOf", "too many $ref hops");
        p = &resolve(*p, path + "/allOf/" + std::to_string(i));
      }
      bool is_object = p->is_object() && ((p->contains("type") && (*p)["type"] == "object") || p->contains("properties"));
      if (!is_object) fail(path + "/allOf/" + std::to_string(i), "allOf is supported for object schemas only");
      for (auto& [k, v] : p->items()) {
        if (!kAnnotations.count(k) && k != "type" && k != "properties" && k != "required" && k != "additionalProperties") {
          fail(path + "/allOf/" + std::to_string(i), "'" + k + "' in an allOf part is not supported");
        }
      }
      parts.push_back(p);
    }
    return object(parts, hint, path, depth);
  }

  std::string enum_values(const json& s, const std::string& path) {
    const json& e = s["enum"];
    if (!e.is_array() || e.empty()) fail(path + "/enum", "must be a non-empty list");
    if (e.size() > kMaxEnum) fail(path + "/enum", "more than " + std::to_string(kMaxEnum) + " values");
    std::vector<json> keep;
    for (auto& v : e) {
      if (!s.contains("type") || s["type"].is_array() || type_fits(v, s["type"].get<std::string>())) keep.push_back(v);
    }
    if (keep.empty()) fail(path + "/enum", "no value has the schema's type");
    return literal_set(keep, path + "/enum") + " " + prim("ws");
  }

  static bool type_fits(const json& v, const std::string& t) {
    if (t == "string") return v.is_string();
    if (t == "integer") return v.is_number_integer() || (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
    if (t == "number") return v.is_number();
    if (t == "boolean") return v.is_boolean();
    if (t == "null") return v.is_null();
    if (t == "object") return v.is_object();
    if (t == "array") return v.is_array();
    return false;
  }

  // The JSON texts of `values` as one expression, factored into a trie of
  // rules so that a long enum is matched by one stack, not one per value.
  std::string literal_set(const std::vector<json>& values, const std::string& path) {
    std::vector<std::string> texts;
    for (auto& v : values) {
      try {
        texts.push_back(v.dump());
      } catch (const std::exception&) {
        fail(path, "a value is not valid UTF-8");
      }
      if (texts.back().size() > kMaxLiteral) fail(path, "a value is longer than " + std::to_string(kMaxLiteral) + " bytes");
    }
    return gbnf_literal_set(texts, rule_fn());
  }

  GbnfRuleFn rule_fn() {
    return [this](const std::string& hint, const std::string& body) { return rule(hint, body); };
  }

  std::string string(const json& s, const std::string& path) {
    std::optional<uint64_t> lo, hi;
    if (s.contains("minLength")) lo = count(s, "minLength", path);
    if (s.contains("maxLength")) hi = count(s, "maxLength", path);
    if (s.contains("pattern")) {
      if (lo || hi) fail(path, "pattern together with minLength/maxLength is not supported");
      if (!s["pattern"].is_string()) fail(path + "/pattern", "must be a string");
      try {
        prim("char");
        return kQuote + " " + gbnf_from_regex(s["pattern"].get<std::string>()) + " " + kQuote + " " + prim("ws");
      } catch (const std::invalid_argument& e) {
        fail(path + "/pattern", e.what());
      }
    }
    if (s.contains("format") && s["format"].is_string()) {
      std::string f = s["format"].get<std::string>();
      if (f == "date" || f == "time" || f == "date-time" || f == "uuid") {
        if (lo || hi) fail(path, "format together with minLength/maxLength is not supported");
        return kQuote + " " + prim(f) + " " + kQuote + " " + prim("ws");
      }
    }
    if (!lo && !hi) return prim("string");
    if (hi && *hi < lo.value_or(0)) fail(path, "maxLength is below minLength");
    std::string rep = "{" + std::to_string(lo.value_or(0)) + "," + (hi ? std::to_string(*hi) : "") + "}";
    return kQuote + " " + prim("char") + rep + " " + kQuote + " " + prim("ws");
  }

  uint64_t count(const json& s, const char* key, const std::string& path) const {
    const json& v = s[key];
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {
      fail(path + "/" + key, "must be a non-negative integer");
    }
    uint64_t n = v.get<uint64_t>();
    if (n > 100000) fail(path + "/" + key, "is over the supported 100000");
    return n;
  }

  // The bound `key` as a number (nullopt when absent).
  std::optional<double> bound(const json& s, const char* key, const std::string& path) const {
    if (!s.contains(key)) return std::nullopt;
    if (!s[key].is_number()) fail(path + "/" + key, "must be a number");
    return s[key].get<double>();
  }

  std::string integer(const json& s, const std::string& path) {
    auto lo = bound(s, "minimum", path), hi = bound(s, "maximum", path);
    auto xlo = bound(s, "exclusiveMinimum", path), xhi = bound(s, "exclusiveMaximum", path);
    if (!lo && !hi && !xlo && !xhi) return prim("integer");
    constexpr double kLimit = 1e16;
    std::optional<int64_t> a, b;
    auto lower = [&](double v) { a = std::max(a.value_or(INT64_MIN), int64_t(std::max(v, -kLimit))); };
    auto upper = [&](double v) { b = std::min(b.value_or(INT64_MAX), int64_t(std::min(v, kLimit))); };
    if (lo) lower(std::ceil(*lo));
    if (xlo) lower(std::floor(*xlo) + 1);
    if (hi) upper(std::floor(*hi));
    if (xhi) upper(std::ceil(*xhi) - 1);
    try {
      return "(" + gbnf_int_range(a, b) + ") " + prim("ws");
    } catch (const std::invalid_argument&) {
      fail(path, "no integer satisfies the minimum and maximum");
    }
  }

  std::string number(const json& s, const std::string& path) {
    auto lo = bound(s, "minimum", path), hi = bound(s, "maximum", path);
    auto xlo = bound(s, "exclusiveMinimum", path), xhi = bound(s, "exclusiveMaximum", path);
    if (!lo && !hi && !xlo && !xhi) return prim("number");
    const std::string why = "number bounds are supported when they are whole numbers >= 0 below 1e15";
    for (auto v : {lo, hi, xlo, xhi}) {
      if (v && (*v < 0 || *v >= 1e15 || std::floor(*v) != *v)) fail(path, why);
    }
    if (lo && xlo) fail(path, "give minimum or exclusiveMinimum, not both");
    if (hi && xhi) fail(path, "give maximum or exclusiveMaximum, not both");
    const std::string frac = "(\".\" [0-9]{1,16})?";
    std::vector<std::string> parts;
    if (!lo && !xlo) parts.push_back("\"-\" (\"0\" | [1-9] [0-9]{0,15}) " + frac);  // every negative number
    int64_t first = lo ? int64_t(*lo) : xlo ? int64_t(*xlo) + 1 : 0;
    std::optional<int64_t> last;  // the last integer part with any fraction
    if (hi) last = int64_t(*hi) - 1;
    if (xhi) last = int64_t(*xhi) - 1;
    if (xlo && (!hi || *xlo < *hi) && (!xhi || *xlo + 1 < *xhi)) {
      // Just above the exclusive minimum: a fraction that is not all zeros.
      parts.push_back(gbnf_literal(std::to_string(int64_t(*xlo))) + " \".\" [0-9]{0,15} [1-9]");
    }
    if (!last || *last >= first) parts.push_back("(" + gbnf_int_range(first, last) + ") " + frac);
    if (hi && int64_t(*hi) >= first) parts.push_back(gbnf_literal(std::to_string(int64_t(*hi))) + " (\".\" \"0\"{1,16})?");
    if (parts.empty()) fail(path, "no number satisfies the bounds");
    return alternatives(parts) + " " + prim("ws");
  }

  std::string array(const json& s, const std::string& hint, const std::string& path, int depth) {
    uint64_t lo = s.contains("minItems") ? count(s, "minItems", path) : 0;
    std::optional<uint64_t> hi;
    if (s.contains("maxItems")) hi = count(s, "maxItems", path);
    if (hi && *hi < lo) fail(path, "maxItems is below minItems");
    std::vector<std::string> prefix;
    if (s.contains("prefixItems")) {
      const json& p = s["prefixItems"];
      if (!p.is_array()) fail(path + "/prefixItems", "must be a list of schemas");
      for (size_t i = 0; i < p.size() && (!hi || i < *hi); ++i) {
        prefix.push_back(visit(p[i], hint + "-" + std::to_string(i), path + "/prefixItems/" + std::to_string(i), depth + 1));
      }
    }
    std::string item;  // the schema of the items after the prefix; empty: none
    if (s.contains("items") && !(s["items"].is_boolean() && !s["items"].get<bool>())) {
      item = visit(s["items"], hint + "-item", path + "/items", depth + 1);
    } else if (!s.contains("items") && prefix.empty()) {
      item = prim("value");
    }
    const uint64_t k = prefix.size();
    if (item.empty() && lo > k) fail(path, "minItems is more than the prefixItems allow");
    const std::string ws = prim("ws"), sep = "\",\" " + ws + " ";
    // The items after the prefix, each after a comma (the first one without
    // one when there is no prefix).
    std::string tail;
    if (!item.empty() && (!hi || *hi > k)) {
      uint64_t need = lo > k ? lo - k : 0;
      std::string more = hi ? std::to_string(*hi - k) : "";
      if (k > 0) {
        tail = "(" + sep + item + "){" + std::to_string(need) + "," + more + "}";
      } else {
        std::string rest = "(" + sep + item + "){" + std::to_string(need ? need - 1 : 0) + "," +
                           (hi ? std::to_string(*hi - 1) : "") + "}";
        tail = need ? item + " " + rest : "(" + item + " " + rest + ")?";
      }
    }
    // Prefix items nested from the last: those past minItems are optional.
    std::string body = tail;
    for (size_t i = k; i-- > 0;) {
      std::string seg = (i ? sep : "") + prefix[i] + (body.empty() ? "" : " " + body);
      body = i + 1 > lo ? "(" + seg + ")?" : seg;
    }
    return "\"[\" " + ws + " " + (body.empty() ? "" : body + " ") + "\"]\" " + ws;
  }

  std::string object(const std::vector<const json*>& parts, const std::string& hint, const std::string& path, int depth);

  const json& root_;
  JsonSchemaOptions o_;
  std::set<std::string> used_, prims_;
  std::vector<std::unique_ptr<std::string>> bodies_;
  std::vector<std::pair<std::string, std::string*>> order_;
  std::map<std::string, std::string> by_body_, refs_;
};

std::string SchemaCompiler::object(const std::vector<const json*>& parts, const std::string& hint,
                                   const std::string& path, int depth) {
  std::vector<std::pair<std::string, std::string>> props;  // key literal, value expression
  std::vector<std::string> keys;
  std::set<std::string> required;
  std::optional<std::string> extra;  // the value of other keys; none: no other keys
  bool extra_set = false;
  for (const json* p : parts) {
    if (p->contains("required")) {
      const json& r = (*p)["required"];
      if (!r.is_array()) fail(path + "/required", "must be a list of property names");
      for (auto& k : r) {
        if (!k.is_string()) fail(path + "/required", "must be a list of property names");
        required.insert(k.get<std::string>());
      }
    }
    if (p->contains("additionalProperties")) {
      const json& a = (*p)["additionalProperties"];
      extra_set = true;
      if (a.is_boolean() && !a.get<bool>()) {
        extra.reset();
      } else {
        extra = visit(a, hint + "-extra", path + "/additionalProperties", depth + 1);
      }
    }
  }
  if (!extra_set && !o_.strict) extra = prim("value");
  for (const json* p : parts) {
    if (!p->contains("properties")) continue;
    const json& ps = (*p)["properties"];
    if (!ps.is_object()) fail(path + "/properties", "must be an object of schemas");
    for (auto& [k, v] : ps.items()) {
      if (std::find(keys.begin(), keys.end(), k) != keys.end()) fail(path + "/properties", "'" + k + "' appears twice");
      std::string key;
      try {
        key = gbnf_literal(json(k).dump());
      } catch (const std::exception&) {
        fail(path + "/properties", "a property name is not valid UTF-8");
      }
      keys.push_back(k);
      props.emplace_back(key, visit(v, hint + "-" + k, path + "/properties/" + k, depth + 1));
    }
  }
  for (auto& r : required) {
    if (std::find(keys.begin(), keys.end(), r) == keys.end()) {
      fail(path + "/required", "'" + r + "' is required but not among the properties");
    }
  }
  const std::string ws = prim("ws"), sep = "\",\" " + ws + " ";
  auto kv = [&](size_t i, bool comma) {
    return (comma ? sep : "") + props[i].first + " " + ws + " \":\" " + ws + " " + props[i].second;
  };
  // Other keys come after the declared ones.
  std::string other[2];
  if (extra) {
    std::string key = keys.empty() ? prim("string")
                                   : kQuote + " " + gbnf_string_except(keys, kQuote + " " + prim("ws"), rule_fn());
    std::string pair = rule(hint + "-kv", key + " \":\" " + ws + " " + *extra);
    other[1] = "(" + sep + pair + ")*";
    other[0] = "(" + pair + " " + other[1] + ")?";
  }
  // S(i, c): the properties from i on, c: whether one came before (so the
  // next needs a comma). Built from the end, one rule per optional step.
  std::string next[2] = {other[0], other[1]};
  for (size_t i = props.size(); i-- > 0;) {
    std::string cur[2];
    for (int c = 0; c < 2; ++c) {
      std::string with = kv(i, c) + (next[1].empty() ? "" : " " + next[1]);
      cur[c] = required.count(keys[i]) ? with : "(" + with + " | " + (next[c].empty() ? "\"\"" : next[c]) + ")";
      if (i > 0) cur[c] = rule(hint + "-" + std::to_string(i) + (c ? "-c" : ""), cur[c]);
    }
    next[0] = cur[0];
    next[1] = cur[1];
  }
  return "\"{\" " + ws + " " + (next[0].empty() ? "" : next[0] + " ") + "\"}\" " + ws;
}

}  // namespace

std::string json_schema_to_grammar(const nlohmann::ordered_json& schema, const JsonSchemaOptions& options) {
  return SchemaCompiler(schema, options).compile();
}

std::string json_object_grammar() {
  return SchemaCompiler(nlohmann::ordered_json{{"type", "object"}}, {}).compile();
}

}  // namespace uma::text::grammar
