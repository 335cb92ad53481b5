// json_schema_to_grammar: for each schema, hand-written documents that must
// and must not match; then random walks through the grammar (a random
// accepted character at each step) whose finished documents must parse with
// nlohmann::json and pass a small independent validator of the same schema
// subset; and the errors.
#include <gtest/gtest.h>

#include <random>

#include "uma/text/grammar/gbnf_text.h"
#include "uma/text/grammar/json_schema.h"
#include "uma/text/grammar/matcher.h"

namespace uma::text::grammar {
namespace {

using json = nlohmann::ordered_json;

bool matches(const std::shared_ptr<const Grammar>& g, const std::string& doc) {
  GrammarMatcher m(g);
  return m.accept(doc) && m.can_end();
}

std::shared_ptr<const Grammar> compile(const json& schema, bool strict = false) {
  JsonSchemaOptions o;
  o.strict = strict;
  return parse_gbnf(json_schema_to_grammar(schema, o));
}

std::string schema_error(const json& schema) {
  try {
    parse_gbnf(json_schema_to_grammar(schema));
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

// An independent validator of the subset (written from the JSON Schema
// spec, not from the compiler).
bool valid(const json& v, const json& s, const json& root, int depth = 0) {
  if (depth > 50) return false;
  if (s.is_boolean()) return s.get<bool>();
  if (s.contains("$ref")) {
    return valid(v, root.at(json::json_pointer(s["$ref"].get<std::string>().substr(1))), root, depth + 1);
  }
  if (s.value("nullable", false) && v.is_null()) return true;
  if (s.contains("const") && v != s["const"]) return false;
  if (s.contains("enum") && std::find(s["enum"].begin(), s["enum"].end(), v) == s["enum"].end()) return false;
  if (s.contains("anyOf") &&
      std::none_of(s["anyOf"].begin(), s["anyOf"].end(), [&](const json& x) { return valid(v, x, root, depth + 1); })) {
    return false;
  }
  if (s.contains("allOf") &&
      !std::all_of(s["allOf"].begin(), s["allOf"].end(), [&](const json& x) { return valid(v, x, root, depth + 1); })) {
    return false;
  }
  if (s.contains("type")) {
    json types = s["type"].is_array() ? s["type"] : json::array({s["type"]});
    bool any = false;
    for (auto& t : types) {
      std::string n = t.get<std::string>();
      any |= (n == "object" && v.is_object()) || (n == "array" && v.is_array()) || (n == "string" && v.is_string()) ||
             (n == "integer" && v.is_number_integer()) || (n == "number" && v.is_number()) ||
             (n == "boolean" && v.is_boolean()) || (n == "null" && v.is_null());
    }
    if (!any) return false;
  }
  if (v.is_object()) {
    for (auto& r : s.value("required", json::array())) {
      if (!v.contains(r.get<std::string>())) return false;
    }
    json props = s.value("properties", json::object());
    for (auto& [k, x] : v.items()) {
      if (props.contains(k)) {
        if (!valid(x, props[k], root, depth + 1)) return false;
      } else if (s.contains("additionalProperties") && !valid(x, s["additionalProperties"], root, depth + 1)) {
        return false;
      }
    }
  }
  if (v.is_array()) {
    size_t k = 0;
    if (s.contains("prefixItems")) {
      for (; k < s["prefixItems"].size() && k < v.size(); ++k) {
        if (!valid(v[k], s["prefixItems"][k], root, depth + 1)) return false;
      }
    }
    for (; k < v.size(); ++k) {
      if (s.contains("items") && !valid(v[k], s["items"], root, depth + 1)) return false;
    }
    if (v.size() < s.value("minItems", size_t(0)) || v.size() > s.value("maxItems", size_t(1) << 30)) return false;
  }
  if (v.is_string()) {
    // Characters, not bytes.
    size_t n = 0;
    for (unsigned char c : v.get<std::string>()) n += (c & 0xC0) != 0x80;
    if (n < s.value("minLength", size_t(0)) || n > s.value("maxLength", size_t(1) << 30)) return false;
  }
  if (v.is_number()) {
    double d = v.get<double>();
    if (s.contains("minimum") && d < s["minimum"].get<double>()) return false;
    if (s.contains("maximum") && d > s["maximum"].get<double>()) return false;
    if (s.contains("exclusiveMinimum") && d <= s["exclusiveMinimum"].get<double>()) return false;
    if (s.contains("exclusiveMaximum") && d >= s["exclusiveMaximum"].get<double>()) return false;
  }
  return true;
}

// Random documents of the grammar: at each step a random character among
// those it accepts (from a small alphabet), ending where it may with some
// chance. Returns the finished ones.
std::vector<std::string> random_documents(const std::shared_ptr<const Grammar>& g, int tries, uint32_t seed) {
  static std::vector<std::string> alphabet = {
      "{", "}", "[", "]", ",", ":", "\"", " ", "\n", "\t", "0", "1", "2", "5", "9", "-", ".", "E", "+", "A", "F",
      "T", "Z", "\\", "/", "é", "€", "😀"};
  static const bool letters = [] {
    for (char c = 'a'; c <= 'z'; ++c) alphabet.push_back(std::string(1, c));
    return true;
  }();
  (void)letters;
  std::mt19937 rng(seed);
  std::vector<std::string> out;
  for (int t = 0; t < tries; ++t) {
    GrammarMatcher m(g);
    std::string doc;
    for (int step = 0; step < 600; ++step) {
      if (m.can_end() && (m.is_done() || rng() % 8 == 0)) {
        out.push_back(doc);
        break;
      }
      std::vector<std::string> ok;
      for (auto& c : alphabet) {
        MatcherState saved = m.state();
        if (m.accept(c)) {
          ok.push_back(c);
          m.restore(saved);
        }
      }
      if (ok.empty()) break;
      // Closing characters are favoured so that documents finish.
      std::string pick = ok[rng() % ok.size()];
      for (auto& c : ok) {
        if ((c == "}" || c == "]" || c == "\"") && rng() % 3 == 0) pick = c;
      }
      m.accept(pick);
      doc += pick;
    }
  }
  return out;
}

// Every random document parses and is valid; returns how many there were.
size_t check_random(const json& schema, bool strict = false, int tries = 300) {
  auto g = compile(schema, strict);
  auto docs = random_documents(g, tries, 7);
  for (auto& d : docs) {
    json v;
    try {
      v = json::parse(d);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "does not parse: " << d << " (" << e.what() << ")";
      continue;
    }
    EXPECT_TRUE(valid(v, schema, schema)) << schema.dump() << "\n  " << d;
  }
  return docs.size();
}

TEST(JsonSchema, ObjectWithRequiredAndOptionalProperties) {
  json s = {{"type", "object"},
            {"properties", {{"name", {{"type", "string"}}}, {"age", {{"type", "integer"}}}, {"ok", {{"type", "boolean"}}}}},
            {"required", {"name"}},
            {"additionalProperties", false}};
  auto g = compile(s);
  EXPECT_TRUE(matches(g, R"({"name": "Ann"})"));
  EXPECT_TRUE(matches(g, R"({"name":"Ann","age":3,"ok":true})"));
  EXPECT_TRUE(matches(g, R"({"name": "Ann", "ok": false})"));
  EXPECT_TRUE(matches(g, "{\n  \"name\": \"A\\\"nn\\u00e9\",\n  \"age\": -12\n}"));
  EXPECT_FALSE(matches(g, R"({"age": 3})"));                 // name is required
  EXPECT_FALSE(matches(g, R"({"age": 3, "name": "Ann"})"));  // declared order
  EXPECT_FALSE(matches(g, R"({"name": "Ann", "x": 1})"));    // no other keys
  EXPECT_FALSE(matches(g, R"({"name": 3})"));
  EXPECT_FALSE(matches(g, R"({"name": "Ann",})"));
  EXPECT_FALSE(matches(g, R"({"name": "Ann", "age": 1.5})"));
  EXPECT_FALSE(matches(g, R"({"name": "\ud800"})"));  // a lone surrogate escape
  EXPECT_GT(check_random(s), 50u);
  // The document ends at its closing brace: nothing may follow.
  GrammarMatcher m(g);
  ASSERT_TRUE(m.accept(R"({"name": "Ann"})"));
  EXPECT_TRUE(m.is_done());
  EXPECT_FALSE(m.accept(" "));
}

TEST(JsonSchema, AdditionalPropertiesAllowedUnlessStrict) {
  json s = {{"type", "object"}, {"properties", {{"a", {{"type", "integer"}}}}}, {"required", {"a"}}};
  auto open = compile(s), strict = compile(s, true);
  EXPECT_TRUE(matches(open, R"({"a": 1, "b": [1, "x"], "ab": null})"));
  EXPECT_FALSE(matches(open, R"({"a": 1, "a": 2})"));  // a declared key is not an extra key
  EXPECT_TRUE(matches(open, R"({"a": 1, "": 2})"));
  EXPECT_FALSE(matches(strict, R"({"a": 1, "b": 2})"));
  EXPECT_TRUE(matches(strict, R"({"a": 1})"));
  json typed = {{"type", "object"}, {"additionalProperties", {{"type", "number"}}}};
  auto t = compile(typed);
  EXPECT_TRUE(matches(t, R"({"x": 1.5e3, "y": -2})"));
  EXPECT_FALSE(matches(t, R"({"x": "1"})"));
  EXPECT_GT(check_random(typed), 50u);
  EXPECT_GT(check_random(s), 50u);
}

TEST(JsonSchema, Arrays) {
  json s = {{"type", "array"}, {"items", {{"type", "integer"}}}, {"minItems", 2}, {"maxItems", 4}};
  auto g = compile(s);
  EXPECT_FALSE(matches(g, "[1]"));
  EXPECT_TRUE(matches(g, "[1, 2]"));
  EXPECT_TRUE(matches(g, "[1,2,3,4]"));
  EXPECT_FALSE(matches(g, "[1,2,3,4,5]"));
  EXPECT_FALSE(matches(g, "[1,\"2\"]"));
  EXPECT_GT(check_random(s), 50u);
  json any = {{"type", "array"}};
  EXPECT_TRUE(matches(compile(any), "[]"));
  EXPECT_TRUE(matches(compile(any), R"([1, "a", {"b": [null]}])"));
  json tuple = {{"type", "array"}, {"prefixItems", {{{"type", "string"}}, {{"type", "number"}}}}, {"items", false}};
  auto tg = compile(tuple);
  EXPECT_TRUE(matches(tg, R"(["a", 1])"));
  EXPECT_TRUE(matches(tg, R"(["a"])"));
  EXPECT_TRUE(matches(tg, "[]"));
  EXPECT_FALSE(matches(tg, R"(["a", 1, 2])"));
  EXPECT_FALSE(matches(tg, R"([1, "a"])"));
  json tuple_more = {{"type", "array"}, {"prefixItems", {{{"const", "x"}}}}, {"items", {{"type", "boolean"}}}, {"minItems", 2}};
  auto tm = compile(tuple_more);
  EXPECT_TRUE(matches(tm, R"(["x", true, false])"));
  EXPECT_FALSE(matches(tm, R"(["x"])"));
  EXPECT_GT(check_random(tuple_more), 30u);
}

TEST(JsonSchema, StringsEnumsAndConst) {
  json s = {{"type", "string"}, {"minLength", 2}, {"maxLength", 3}};
  auto g = compile(s);
  EXPECT_FALSE(matches(g, "\"a\""));
  EXPECT_TRUE(matches(g, "\"ab\""));
  EXPECT_TRUE(matches(g, "\"a\\nb\""));  // an escape is one character
  EXPECT_TRUE(matches(g, "\"€€€\""));
  EXPECT_FALSE(matches(g, "\"abcd\""));
  json e = {{"enum", {"red", "green", "greenish", 3, nullptr, json::array({1, 2})}}};
  auto eg = compile(e);
  for (const char* ok : {"\"red\"", "\"green\"", "\"greenish\"", "3", "null", "[1,2]"}) EXPECT_TRUE(matches(eg, ok)) << ok;
  for (const char* bad : {"\"gree\"", "\"blue\"", "4", "[1, 2]", "\"greenishh\""}) EXPECT_FALSE(matches(eg, bad)) << bad;
  json c = {{"const", {{"k", "v\"q"}}}};
  EXPECT_TRUE(matches(compile(c), R"({"k":"v\"q"})"));
  EXPECT_FALSE(matches(compile(c), R"({"k":"v"})"));
  EXPECT_GT(check_random(e), 50u);
}

TEST(JsonSchema, IntegerAndNumberBounds) {
  json s = {{"type", "integer"}, {"minimum", -15}, {"maximum", 123}};
  auto g = compile(s);
  for (int i = -40; i <= 200; ++i) EXPECT_EQ(matches(g, std::to_string(i)), i >= -15 && i <= 123) << i;
  EXPECT_FALSE(matches(g, "007"));
  EXPECT_FALSE(matches(g, "-0"));
  json x = {{"type", "integer"}, {"exclusiveMinimum", 0}, {"exclusiveMaximum", 1000}};
  auto xg = compile(x);
  for (int i : {-1, 0, 1, 9, 10, 99, 100, 999, 1000, 1001}) EXPECT_EQ(matches(xg, std::to_string(i)), i > 0 && i < 1000) << i;
  json big = {{"type", "integer"}, {"minimum", 1000000}};
  auto bg = compile(big);
  EXPECT_FALSE(matches(bg, "999999"));
  EXPECT_TRUE(matches(bg, "1000000"));
  EXPECT_TRUE(matches(bg, "123456789012"));
  json n = {{"type", "number"}, {"minimum", 0}, {"maximum", 1}};
  auto ng = compile(n);
  for (const char* ok : {"0", "0.5", "1", "1.0", "0.999"}) EXPECT_TRUE(matches(ng, ok)) << ok;
  for (const char* bad : {"-0.5", "1.5", "2", "1.01", "1e0"}) EXPECT_FALSE(matches(ng, bad)) << bad;
  json xn = {{"type", "number"}, {"exclusiveMinimum", 2}, {"exclusiveMaximum", 5}};
  auto xng = compile(xn);
  for (const char* ok : {"2.5", "2.01", "3", "4.999"}) EXPECT_TRUE(matches(xng, ok)) << ok;
  for (const char* bad : {"2", "2.0", "2.00", "5", "5.0", "1"}) EXPECT_FALSE(matches(xng, bad)) << bad;
  EXPECT_GT(check_random(s), 50u);
  EXPECT_GT(check_random(n), 50u);
  EXPECT_GT(check_random(xn), 50u);
}

TEST(JsonSchema, IntRangeMatchesExactlyTheRange) {
  // Against counting, over many ranges.
  std::mt19937 rng(3);
  for (int t = 0; t < 40; ++t) {
    int64_t a = int64_t(rng() % 3000) - 1500, b = a + int64_t(rng() % 3000);
    auto g = parse_gbnf("root ::= " + gbnf_int_range(a, b));
    for (int64_t v = a - 20; v <= b + 20; v += 1 + int64_t(rng() % 7)) {
      EXPECT_EQ(matches(g, std::to_string(v)), v >= a && v <= b) << v << " in [" << a << ", " << b << "]";
    }
  }
}

TEST(JsonSchema, FormatsAndPatterns) {
  auto date = compile({{"type", "string"}, {"format", "date"}});
  EXPECT_TRUE(matches(date, "\"2024-02-29\""));
  EXPECT_FALSE(matches(date, "\"2024-13-01\""));
  auto dt = compile({{"type", "string"}, {"format", "date-time"}});
  EXPECT_TRUE(matches(dt, "\"2024-02-29T23:59:60Z\"") == false);
  EXPECT_TRUE(matches(dt, "\"2024-02-29T23:59:59.123+01:00\""));
  auto uuid = compile({{"type", "string"}, {"format", "uuid"}});
  EXPECT_TRUE(matches(uuid, "\"123e4567-e89b-12d3-a456-426614174000\""));
  EXPECT_FALSE(matches(uuid, "\"123e4567e89b12d3a456426614174000\""));
  auto p = compile({{"type", "string"}, {"pattern", "^[A-Z]{2}-\\d{3,4}(x|yz)?$"}});
  EXPECT_TRUE(matches(p, "\"AB-123\""));
  EXPECT_TRUE(matches(p, "\"AB-1234yz\""));
  EXPECT_FALSE(matches(p, "\"AB-12\""));
  EXPECT_FALSE(matches(p, "\"ab-123\""));
  EXPECT_FALSE(matches(p, "\"AB-123y\""));
  // Unanchored: the pattern may appear anywhere; characters JSON escapes
  // are written escaped.
  auto q = compile({{"type", "string"}, {"pattern", "a\"b"}});
  EXPECT_TRUE(matches(q, "\"xx a\\\"b yy\""));
  EXPECT_FALSE(matches(q, "\"xx ab\""));
  auto dot = compile({{"type", "string"}, {"pattern", "^.$"}});
  EXPECT_TRUE(matches(dot, "\"\\\"\""));
  EXPECT_TRUE(matches(dot, "\"é\""));
  EXPECT_FALSE(matches(dot, "\"\\n\""));
}

TEST(JsonSchema, AnyOfTypeListsNullableAndAllOf) {
  json s = {{"anyOf", {{{"type", "integer"}}, {{"type", "string"}, {"maxLength", 1}}}}};
  auto g = compile(s);
  EXPECT_TRUE(matches(g, "12"));
  EXPECT_TRUE(matches(g, "\"a\""));
  EXPECT_FALSE(matches(g, "\"ab\""));
  auto n = compile({{"type", {"string", "null"}}});
  EXPECT_TRUE(matches(n, "null"));
  EXPECT_TRUE(matches(n, "\"x\""));
  EXPECT_FALSE(matches(n, "1"));
  auto on = compile({{"type", "integer"}, {"nullable", true}});
  EXPECT_TRUE(matches(on, "null"));
  EXPECT_TRUE(matches(on, "7"));
  json all = {{"allOf",
               {{{"type", "object"}, {"properties", {{"a", {{"type", "integer"}}}}}, {"required", {"a"}}},
                {{"properties", {{"b", {{"type", "string"}}}}}, {"required", {"b"}}}}},
              {"additionalProperties", false}};
  auto ag = compile(all);
  EXPECT_TRUE(matches(ag, R"({"a": 1, "b": "x"})"));
  EXPECT_FALSE(matches(ag, R"({"a": 1})"));
  EXPECT_GT(check_random(s), 50u);
}

TEST(JsonSchema, RefsIncludingRecursive) {
  json s = {{"$defs",
             {{"node",
               {{"type", "object"},
                {"properties", {{"value", {{"type", "integer"}}}, {"children", {{"type", "array"}, {"items", {{"$ref", "#/$defs/node"}}}}}}},
                {"required", {"value", "children"}},
                {"additionalProperties", false}}}}},
            {"$ref", "#/$defs/node"}};
  auto g = compile(s);
  EXPECT_TRUE(matches(g, R"({"value": 1, "children": []})"));
  EXPECT_TRUE(matches(g, R"({"value": 1, "children": [{"value": 2, "children": [{"value": 3, "children": []}]}]})"));
  EXPECT_FALSE(matches(g, R"({"value": 1, "children": [{"value": 2}]})"));
  EXPECT_GT(check_random(s, false, 500), 30u);
  json d = {{"definitions", {{"id", {{"type", "string"}, {"format", "uuid"}}}}},
            {"type", "array"},
            {"items", {{"$ref", "#/definitions/id"}}}};
  EXPECT_TRUE(matches(compile(d), "[\"123e4567-e89b-12d3-a456-426614174000\"]"));
}

TEST(JsonSchema, JsonObjectMode) {
  auto g = parse_gbnf(json_object_grammar());
  EXPECT_TRUE(matches(g, "{}"));
  EXPECT_TRUE(matches(g, R"({"a": [1, 2.5e-3, "x", {"b": null}], "c": true})"));
  EXPECT_FALSE(matches(g, "[]"));
  EXPECT_FALSE(matches(g, "\"x\""));
  EXPECT_FALSE(matches(g, "{\"a\": 01}"));
  EXPECT_FALSE(matches(g, std::string("{") + std::string(30, ' ') + "}"));  // whitespace is bounded
  auto docs = random_documents(g, 300, 11);
  EXPECT_GT(docs.size(), 50u);
  for (auto& d : docs) EXPECT_TRUE(json::parse(d).is_object()) << d;
}

TEST(JsonSchema, Errors) {
  EXPECT_EQ(schema_error({{"type", "string"}, {"uniqueItems", true}}),
            "[json_schema_to_grammar] at /: unsupported keyword 'uniqueItems' (it cannot be enforced while generating)");
  EXPECT_EQ(schema_error(json::parse(R"({"type": "object", "properties": {"a": {"not": {"type": "string"}}}})")),
            "[json_schema_to_grammar] at /properties/a: unsupported keyword 'not' (it cannot be enforced while "
            "generating)");
  EXPECT_EQ(schema_error({{"$ref", "#/$defs/missing"}}),
            "[json_schema_to_grammar] at /$ref: '#/$defs/missing' does not resolve in the schema");
  EXPECT_EQ(schema_error({{"$ref", "http://example.com/s.json"}}),
            "[json_schema_to_grammar] at /$ref: only local references (#/...) are supported, got "
            "'http://example.com/s.json'");
  EXPECT_EQ(schema_error({{"type", "strin"}}), "[json_schema_to_grammar] at /type: unknown type 'strin'");
  EXPECT_EQ(schema_error({{"type", "integer"}, {"minimum", 5}, {"maximum", 1}}),
            "[json_schema_to_grammar] at /: no integer satisfies the minimum and maximum");
  EXPECT_EQ(schema_error({{"type", "number"}, {"minimum", -1.5}}),
            "[json_schema_to_grammar] at /: number bounds are supported when they are whole numbers >= 0 below 1e15");
  EXPECT_EQ(schema_error({{"type", "string"}, {"pattern", "^(a)\\1$"}}),
            "[json_schema_to_grammar] at /pattern: [pattern] at offset 6 of /^(a)\\1$/: backreferences are not "
            "supported");
  EXPECT_EQ(schema_error({{"type", "string"}, {"pattern", "(?=a)"}}),
            "[json_schema_to_grammar] at /pattern: [pattern] at offset 1 of /(?=a)/: lookarounds and named groups "
            "are not supported");
  EXPECT_EQ(schema_error({{"type", "string"}, {"pattern", "[a-"}}),
            "[json_schema_to_grammar] at /pattern: [pattern] at offset 3 of /[a-/: unclosed '['");
  EXPECT_EQ(schema_error({{"type", "object"}, {"properties", {{"a", true}}}, {"required", {"b"}}}),
            "[json_schema_to_grammar] at /required: 'b' is required but not among the properties");
  EXPECT_EQ(schema_error(false), "[json_schema_to_grammar] at /: the schema false allows nothing");
  EXPECT_EQ(schema_error({{"allOf", {{{"type", "string"}}}}}),
            "[json_schema_to_grammar] at /allOf/0: allOf is supported for object schemas only");
}

TEST(JsonSchema, HostileSchemasAreBounded) {
  // Deep nesting is refused, not recursed into without end.
  json deep = {{"type", "integer"}};
  for (int i = 0; i < 200; ++i) deep = {{"type", "array"}, {"items", deep}};
  EXPECT_NE(schema_error(deep).find("schemas nested deeper than 64"), std::string::npos);
  // A huge enum is factored into a trie: one stack per step, not 50000.
  json values = json::array();
  for (int i = 0; i < 50000; ++i) values.push_back("item-" + std::to_string(i * 7919 % 100003));
  auto g = compile({{"enum", values}});
  GrammarMatcher m(g);
  ASSERT_TRUE(m.accept("\"item-"));
  EXPECT_LE(m.state().stacks.size(), 16u);
  EXPECT_TRUE(matches(g, "\"item-7919\""));
  EXPECT_FALSE(matches(g, "\"item-1\"") && std::find(values.begin(), values.end(), "item-1") == values.end());
  // Definitions that only refer to each other never reach a value: an error.
  json loop = {{"$defs", {{"a", {{"$ref", "#/$defs/b"}}}, {"b", {{"$ref", "#/$defs/a"}}}}}, {"$ref", "#/$defs/a"}};
  EXPECT_NE(schema_error(loop).find("rule 'root' can never be completed"), std::string::npos) << schema_error(loop);
  // A definition that refers to itself first, then to more, is left recursion.
  json left = {{"$defs", {{"a", {{"type", "array"}, {"prefixItems", {{{"$ref", "#/$defs/a"}}}}}}}}, {"$ref", "#/$defs/a"}};
  EXPECT_EQ(schema_error(left), "");  // "[" comes first: not left recursive
  json mutual = {{"$defs", {{"a", {{"anyOf", {{{"$ref", "#/$defs/a"}}, {{"type", "null"}}}}}}}}, {"$ref", "#/$defs/a"}};
  EXPECT_EQ(schema_error(mutual), "");  // a ::= a | null: repeats nothing, matches null
  // Length bounds past the limit are an error, not a huge grammar.
  EXPECT_NE(schema_error({{"type", "string"}, {"maxLength", 1000000}}).find("over the supported 100000"),
            std::string::npos);
}

}  // namespace
}  // namespace uma::text::grammar
