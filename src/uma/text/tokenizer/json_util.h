// Helpers for reading the component objects of tokenizer.json with clear
// errors naming the component and field.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace uma::text::tokenizer::json_util {

using nlohmann::json;

inline std::string type_of(const json& j, const char* component) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    throw std::invalid_argument(std::string("[tokenizer] ") + component +
                                " without a \"type\": " + j.dump().substr(0, 200));
  }
  return j["type"].get<std::string>();
}

[[noreturn]] inline void unknown_type(const char* component, const std::string& type) {
  throw std::invalid_argument(std::string("[tokenizer] unknown or unsupported ") + component +
                              " type '" + type + "'");
}

inline bool get_bool(const json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) {
    throw std::invalid_argument(std::string("[tokenizer] field '") + key + "' must be a boolean");
  }
  return it->get<bool>();
}

inline std::string get_string(const json& j, const char* key, const std::string& fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_string()) {
    throw std::invalid_argument(std::string("[tokenizer] field '") + key + "' must be a string");
  }
  return it->get<std::string>();
}

inline const json& require(const json& j, const char* key, const char* component) {
  auto it = j.find(key);
  if (it == j.end()) {
    throw std::invalid_argument(std::string("[tokenizer] ") + component + " is missing field '" +
                                key + "'");
  }
  return *it;
}

inline int64_t get_int(const json& j, const char* key, int64_t fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_number_integer()) {
    throw std::invalid_argument(std::string("[tokenizer] field '") + key + "' must be an integer");
  }
  return it->get<int64_t>();
}

// A single character field (Metaspace replacement, Strip content).
inline std::string get_char(const json& j, const char* key, const std::string& fallback) {
  std::string s = get_string(j, key, fallback);
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  if (n != 1) {
    throw std::invalid_argument(std::string("[tokenizer] field '") + key +
                                "' must be a single character, got '" + s + "'");
  }
  return s;
}

// {"String": "..."} or {"Regex": "..."}.
struct Pattern {
  bool is_regex;
  std::string text;
};
inline Pattern get_pattern(const json& j, const char* component) {
  const json& p = require(j, "pattern", component);
  if (p.is_object() && p.contains("String") && p["String"].is_string()) {
    return {false, p["String"].get<std::string>()};
  }
  if (p.is_object() && p.contains("Regex") && p["Regex"].is_string()) {
    return {true, p["Regex"].get<std::string>()};
  }
  if (p.is_string()) return {false, p.get<std::string>()};
  throw std::invalid_argument(std::string("[tokenizer] ") + component +
                              " pattern must be {\"String\": ...} or {\"Regex\": ...}");
}

}  // namespace uma::text::tokenizer::json_util
