// JSON in and out: nlohmann values become template values, and template
// values are written exactly as Python's json.dumps writes them.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "uma/text/jinja/value.h"

namespace uma::text::jinja {

struct DumpOptions {
  bool ensure_ascii = false;
  std::optional<std::string> indent;  // per-level indent; nullopt = one line
  std::string item_separator = ", ";
  std::string key_separator = ": ";
  bool sort_keys = false;
  size_t max_bytes = SIZE_MAX;  // MemoryError beyond this
};

Value from_json(const nlohmann::ordered_json& j);
std::string json_dumps(const Value& v, const DumpOptions& options);

}  // namespace uma::text::jinja
