#include "uma/lm/models/config_reader.h"

#include <cmath>
#include <stdexcept>

namespace uma::lm {

namespace {
// The offending value as JSON, cut short: a hostile value may be huge.
std::string shown(const nlohmann::json& v) {
  std::string s = v.dump();
  return s.size() > 40 ? s.substr(0, 40) + "..." : s;
}
}  // namespace

ConfigReader::ConfigReader(const nlohmann::json& c, std::string where)
    : c_(c), where_(std::move(where)) {
  if (!c_.is_object())
    throw std::invalid_argument("[load] config.json: " + where_ + " must be a JSON object");
}

void ConfigReader::fail(const char* key, const std::string& what) const {
  throw std::invalid_argument("[load] config.json: " + where_ + key + " " + what);
}

bool ConfigReader::has(const char* key) const {
  auto it = c_.find(key);
  return it != c_.end() && !it->is_null();
}

std::optional<int64_t> ConfigReader::opt_integer(const char* key, int64_t lo, int64_t hi) const {
  if (!has(key)) return std::nullopt;
  const auto& v = c_[key];
  std::string range = lo == 1 && hi > (int64_t(1) << 40) ? "a positive integer"
                      : lo == 1 ? "a positive integer up to " + std::to_string(hi)
                                : "an integer in " + std::to_string(lo) + ".." + std::to_string(hi);
  int64_t n = 0;
  if (v.is_number_integer() && v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > uint64_t(hi)) fail(key, "must be " + range + ", got " + shown(v));
    n = int64_t(u);
  } else if (v.is_number_integer()) {
    n = v.get<int64_t>();
  } else if (v.is_number_float() && std::isfinite(v.get<double>()) &&
             v.get<double>() == std::floor(v.get<double>()) && std::fabs(v.get<double>()) < 9e15) {
    n = int64_t(v.get<double>());  // 64.0 is 64
  } else {
    fail(key, "must be " + range + ", got " + shown(v));
  }
  if (n < lo || n > hi) fail(key, "must be " + range + ", got " + shown(v));
  return n;
}

int64_t ConfigReader::integer(const char* key, int64_t lo, int64_t hi) const {
  auto n = opt_integer(key, lo, hi);
  if (!n) fail(key, "is missing (an integer is required)");
  return *n;
}

int64_t ConfigReader::integer(const char* key, int64_t lo, int64_t hi, int64_t dflt) const {
  return opt_integer(key, lo, hi).value_or(dflt);
}

std::optional<double> ConfigReader::opt_positive(const char* key) const {
  if (!has(key)) return std::nullopt;
  const auto& v = c_[key];
  if (!v.is_number() || !std::isfinite(v.get<double>()) || !(v.get<double>() > 0)) {
    fail(key, "must be a finite number > 0, got " + shown(v));
  }
  return v.get<double>();
}

double ConfigReader::positive(const char* key, double dflt) const {
  return opt_positive(key).value_or(dflt);
}

double ConfigReader::number(const char* key, double lo, double hi, double dflt) const {
  if (!has(key)) return dflt;
  const auto& v = c_[key];
  if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < lo ||
      v.get<double>() > hi) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), "must be a number in [%g, %g], got ", lo, hi);
    fail(key, buf + shown(v));
  }
  return v.get<double>();
}

bool ConfigReader::boolean(const char* key, bool dflt) const {
  if (!has(key)) return dflt;
  if (!c_[key].is_boolean()) fail(key, "must be true or false, got " + shown(c_[key]));
  return c_[key].get<bool>();
}

std::string ConfigReader::string(const char* key, const std::string& dflt) const {
  if (!has(key)) return dflt;
  if (!c_[key].is_string()) fail(key, "must be a string, got " + shown(c_[key]));
  return c_[key].get<std::string>();
}

}  // namespace uma::lm
