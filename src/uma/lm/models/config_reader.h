// Typed, range-checked reads of config.json fields. config.json is untrusted:
// a string where a number belongs, a zero head count or a billion layers must
// be an error naming the key before any shape is derived or memory is
// allocated, e.g. "[load] config.json: num_attention_heads must be a positive
// integer, got 0". Absent and null keys take the default.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace uma::lm {

// Bounds no released model comes near (the largest dense models have ~128
// layers, 128 heads, hidden 16384, vocabularies of ~260k and contexts of
// 10M tokens); beyond them a config is corrupt or hostile.
struct ConfigLimits {
  static constexpr int64_t kMaxLayers = 1024;
  static constexpr int64_t kMaxVocab = int64_t(1) << 24;
  static constexpr int64_t kMaxHidden = int64_t(1) << 17;
  static constexpr int64_t kMaxIntermediate = int64_t(1) << 20;
  static constexpr int64_t kMaxHeads = 1024;
  static constexpr int64_t kMaxHeadDim = 4096;
  static constexpr int64_t kMaxPositions = int64_t(1) << 30;  // fits int32 with room for offsets
};

class ConfigReader {
 public:
  // `where` prefixes key names in errors ("text_config." for nested configs).
  explicit ConfigReader(const nlohmann::json& c, std::string where = "");

  bool has(const char* key) const;  // present and not null
  // An integer in [lo, hi]; required, or `dflt` when absent/null.
  int64_t integer(const char* key, int64_t lo, int64_t hi) const;
  int64_t integer(const char* key, int64_t lo, int64_t hi, int64_t dflt) const;
  std::optional<int64_t> opt_integer(const char* key, int64_t lo, int64_t hi) const;
  // A finite number > 0 (`positive`) or any finite number.
  double positive(const char* key, double dflt) const;
  std::optional<double> opt_positive(const char* key) const;
  // A finite number in [lo, hi].
  double number(const char* key, double lo, double hi, double dflt) const;
  bool boolean(const char* key, bool dflt) const;
  std::string string(const char* key, const std::string& dflt) const;

  [[noreturn]] void fail(const char* key, const std::string& what) const;

 private:
  const nlohmann::json& c_;
  std::string where_;
};

}  // namespace uma::lm
