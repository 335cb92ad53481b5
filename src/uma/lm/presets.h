// Model shapes for `uma init`: real models' config.json (random weights, for
// benchmarks) and tiny ones for tests.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace uma::lm {

// config.json of a preset (vocab_size 0 in tiny presets: taken from the
// tokenizer). Throws listing the known names.
nlohmann::json preset_config(const std::string& name);
std::vector<std::string> preset_names();

}  // namespace uma::lm
