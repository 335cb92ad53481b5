#include "uma/lm/rope.h"

#include <cmath>

#include "uma/core/fast.h"
#include "uma/core/ops.h"
#include "uma/lm/models/config_reader.h"

namespace uma::lm {

using json = nlohmann::json;

namespace {

// Present and not null (rope_spec_from_config checked the types).
bool has(const json& j, const char* key) { return j.contains(key) && !j[key].is_null(); }

float get_f(const json& j, const char* key, float dflt) {
  auto it = j.find(key);
  return (it == j.end() || it->is_null()) ? dflt : it->get<float>();
}

std::vector<double> base_inv_freq(double base, int dims) {
  std::vector<double> inv(dims / 2);
  for (int i = 0; i < dims / 2; ++i) {
    // transformers: 1 / base ** (arange(0, dim, 2).float() / dim), in float32
    float e = float(2 * i) / float(dims);
    inv[i] = 1.0 / double(std::pow(float(base), e));
  }
  return inv;
}

array periods(const std::vector<double>& inv) {
  std::vector<float> f(inv.size());
  for (size_t i = 0; i < inv.size(); ++i) f[i] = float(1.0 / inv[i]);
  return array(f, {int32_t(f.size())});
}

}  // namespace

namespace {

// The scaling dict's numbers, checked once so that RotaryEmbedding can read
// them without a type error or a division by zero.
void check_scaling(const json& p, const std::string& where, const std::string& type) {
  ConfigReader r(p, where);
  for (const char* k : {"factor", "low_freq_factor", "high_freq_factor", "attention_factor",
                        "beta_fast", "beta_slow"}) {
    r.opt_positive(k);
  }
  r.integer("original_max_position_embeddings", 1, ConfigLimits::kMaxPositions, 1);
  for (const char* k : {"mscale", "mscale_all_dim"}) r.number(k, -1e6, 1e6, 0);
  r.boolean("truncate", true);
  if (type == "llama3" &&
      r.positive("high_freq_factor", 4.0) == r.positive("low_freq_factor", 1.0)) {
    r.fail("high_freq_factor", "must differ from low_freq_factor");
  }
  if (type == "longrope" || type == "freq_factors") {
    for (const char* k : type == "longrope" ? std::vector<const char*>{"short_factor", "long_factor"}
                                            : std::vector<const char*>{"factors"}) {
      if (!p.contains(k) || !p[k].is_array()) r.fail(k, "must be a list of numbers (" + type + ")");
      for (const auto& v : p[k]) {
        if (!v.is_number() || !std::isfinite(v.get<double>()) || !(v.get<double>() > 0)) {
          r.fail(k, "must hold finite numbers > 0, got " + v.dump().substr(0, 40));
        }
      }
    }
  }
}

}  // namespace

RopeSpec rope_spec_from_config(const json& config, int head_dim, const std::string& layer_type,
                               const std::string& where) {
  ConfigReader r(config, where);
  RopeSpec spec;
  spec.max_position_embeddings =
      int(r.integer("max_position_embeddings", 1, ConfigLimits::kMaxPositions, 2048));
  if (auto o = r.opt_integer("original_max_position_embeddings", 1, ConfigLimits::kMaxPositions)) {
    spec.original_max_position_embeddings = int(*o);
  }
  double partial = r.number("partial_rotary_factor", 1e-6, 1.0, 1.0);
  spec.theta = float(r.positive("rope_theta", 10000.0));
  json scaling = json::object();
  std::string scaling_where = where + "rope_scaling.";
  if (config.contains("rope_scaling") && !config["rope_scaling"].is_null()) {
    if (!config["rope_scaling"].is_object())
      r.fail("rope_scaling", "must be a JSON object or null");
    scaling = config["rope_scaling"];
  }
  if (config.contains("rope_parameters") && !config["rope_parameters"].is_null()) {
    if (!config["rope_parameters"].is_object())
      r.fail("rope_parameters", "must be a JSON object or null");
    json rp = config["rope_parameters"];
    scaling_where = where + "rope_parameters.";
    if (!layer_type.empty() && rp.contains(layer_type)) {
      rp = rp[layer_type];
      scaling_where += layer_type + ".";
      if (!rp.is_object())
        r.fail(("rope_parameters." + layer_type).c_str(), "must be a JSON object");
    }
    ConfigReader rr(rp, scaling_where);
    spec.theta = float(rr.positive("rope_theta", spec.theta));
    partial = rr.number("partial_rotary_factor", 1e-6, 1.0, partial);
    scaling = rp;
  }
  ConfigReader sr(scaling, scaling_where);
  std::string type = sr.string("rope_type", sr.string("type", "default"));
  if (type == "su") type = "longrope";
  if (type == "dynamic") type = "linear";  // equal to linear within the trained context
  spec.type = type;
  static const char* known[] = {"default", "linear", "llama3", "yarn", "longrope", "freq_factors"};
  bool ok = false;
  for (auto* k : known) ok |= type == k;
  if (!ok) throw std::invalid_argument("[rope] unsupported rope scaling type '" + type + "'");
  check_scaling(scaling, scaling_where, type);
  spec.params = scaling;
  spec.dims = int(float(head_dim) * float(partial));
  if (spec.dims % 2) --spec.dims;
  if (spec.dims < 2) {
    r.fail("partial_rotary_factor", "times head_dim (" + std::to_string(head_dim) +
                                        ") leaves fewer than 2 rotated features");
  }
  return spec;
}

RotaryEmbedding::RotaryEmbedding(const RopeSpec& spec) : dims_(spec.dims), traditional_(spec.traditional) {
  base_ = spec.theta;
  const json& p = spec.params;
  int dims = spec.dims;
  if (spec.type == "linear") {
    scale_ = 1.0f / get_f(p, "factor", 1.0f);
  } else if (spec.type == "llama3") {
    double factor = get_f(p, "factor", 8.0f), low = get_f(p, "low_freq_factor", 1.0f),
           high = get_f(p, "high_freq_factor", 4.0f),
           old_ctx = get_f(p, "original_max_position_embeddings", 8192.0f);
    double low_wl = old_ctx / low, high_wl = old_ctx / high;
    auto inv = base_inv_freq(base_, dims);
    for (auto& f : inv) {
      double wl = 2 * M_PI / f;
      double scaled = wl > low_wl ? f / factor : f;
      double smooth = (old_ctx / wl - low) / (high - low);
      double smoothed = (1 - smooth) * scaled / factor + smooth * scaled;
      bool medium = !(wl < high_wl) && !(wl > low_wl);
      f = medium ? smoothed : scaled;
    }
    freqs_ = periods(inv);
  } else if (spec.type == "yarn") {
    double factor = get_f(p, "factor", 1.0f);
    double orig = has(p, "original_max_position_embeddings")
                      ? p["original_max_position_embeddings"].get<double>()
                      : double(spec.max_position_embeddings);
    auto get_mscale = [](double scale, double m) { return scale <= 1 ? 1.0 : 0.1 * m * std::log(scale) + 1.0; };
    double attn = 0;
    if (has(p, "attention_factor")) {
      attn = p["attention_factor"].get<double>();
    } else if (has(p, "mscale") && has(p, "mscale_all_dim") && p["mscale"].get<double>() != 0 &&
               p["mscale_all_dim"].get<double>() != 0) {
      attn = get_mscale(factor, p["mscale"].get<double>()) /
             get_mscale(factor, p["mscale_all_dim"].get<double>());
    } else {
      attn = get_mscale(factor, 1.0);
    }
    double beta_fast = get_f(p, "beta_fast", 32.0f), beta_slow = get_f(p, "beta_slow", 1.0f);
    bool truncate = has(p, "truncate") ? p["truncate"].get<bool>() : true;
    auto corr_dim = [&](double rot) {
      return (dims * std::log(orig / (rot * 2 * M_PI))) / (2 * std::log(double(base_)));
    };
    double lo = corr_dim(beta_fast), hi = corr_dim(beta_slow);
    if (truncate) {
      lo = std::floor(lo);
      hi = std::ceil(hi);
    }
    lo = std::max(lo, 0.0);
    hi = std::min(hi, double(dims - 1));
    if (lo == hi) hi += 0.001;
    auto inv = base_inv_freq(base_, dims);
    for (int i = 0; i < dims / 2; ++i) {
      double ramp = std::clamp((double(i) - lo) / (hi - lo), 0.0, 1.0);
      double extrap = 1 - ramp;
      double pos_freq = 1.0 / inv[i];
      double inter = 1.0 / (factor * pos_freq);
      inv[i] = inter * (1 - extrap) + inv[i] * extrap;
    }
    freqs_ = periods(inv);
    mscale_ = float(attn);
  } else if (spec.type == "freq_factors") {
    // llama.cpp's rope_freqs tensor (GGUF): each frequency divided by its factor.
    auto f = p.at("factors").get<std::vector<double>>();
    if (int(f.size()) != dims / 2) {
      throw std::invalid_argument("[rope] freq_factors needs " + std::to_string(dims / 2) + " factors, got " +
                                  std::to_string(f.size()));
    }
    auto inv = base_inv_freq(base_, dims);
    for (int i = 0; i < dims / 2; ++i) inv[i] /= f[i];
    freqs_ = periods(inv);
  } else if (spec.type == "longrope") {
    auto short_f = p.at("short_factor").get<std::vector<double>>();
    auto long_f = p.at("long_factor").get<std::vector<double>>();
    if (int(short_f.size()) != dims / 2 || int(long_f.size()) != dims / 2) {
      throw std::invalid_argument("[rope] longrope factors need " + std::to_string(dims / 2) + " entries");
    }
    double orig;
    double factor;
    if (spec.original_max_position_embeddings) {
      orig = *spec.original_max_position_embeddings;
      factor = double(spec.max_position_embeddings) / orig;
    } else if (has(p, "original_max_position_embeddings")) {
      orig = p["original_max_position_embeddings"].get<double>();
      factor = has(p, "factor") ? p["factor"].get<double>()
                                : double(spec.max_position_embeddings) / orig;
    } else {
      orig = spec.max_position_embeddings;
      factor = get_f(p, "factor", 1.0f);
    }
    double attn;
    if (has(p, "attention_factor")) {
      attn = p["attention_factor"].get<double>();
    } else {
      attn = factor <= 1.0 ? 1.0 : std::sqrt(1 + std::log(factor) / std::log(orig));
    }
    auto inv = base_inv_freq(base_, dims);
    std::vector<double> s(dims / 2), l(dims / 2);
    for (int i = 0; i < dims / 2; ++i) {
      s[i] = inv[i] / short_f[i];
      l[i] = inv[i] / long_f[i];
    }
    freqs_ = periods(s);
    long_freqs_ = periods(l);
    original_max_ = int(orig);
    mscale_ = float(attn);
  }
}

array RotaryEmbedding::operator()(const array& x, int offset) const {
  array in = x;
  if (mscale_ != 1.0f) {
    // Scaling cos and sin scales the rotated features (rope is linear in x).
    if (dims_ == x.shape(-1)) {
      in = multiply(x, array(mscale_, x.dtype()));
    } else {
      Shape st(x.ndim(), 0), sp = x.shape();
      sp.back() = dims_;
      array rot = multiply(slice(x, st, sp), array(mscale_, x.dtype()));
      Shape st2(x.ndim(), 0);
      st2.back() = dims_;
      in = concatenate({rot, slice(x, st2, x.shape())}, -1);
    }
  }
  const std::optional<array>& f =
      (long_freqs_ && offset + x.shape(-2) > original_max_) ? long_freqs_ : freqs_;
  if (f) return fast::rope(in, dims_, traditional_, std::nullopt, scale_, offset, f);
  return fast::rope(in, dims_, traditional_, base_, scale_, offset);
}

}  // namespace uma::lm
