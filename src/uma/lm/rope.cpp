#include "uma/lm/rope.h"

#include <cmath>

#include "uma/core/fast.h"
#include "uma/core/ops.h"

namespace uma::lm {

using json = nlohmann::json;

namespace {

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

RopeSpec rope_spec_from_config(const json& config, int head_dim, const std::string& layer_type) {
  RopeSpec spec;
  spec.max_position_embeddings = config.value("max_position_embeddings", 2048);
  if (config.contains("original_max_position_embeddings") && config["original_max_position_embeddings"].is_number()) {
    spec.original_max_position_embeddings = config["original_max_position_embeddings"].get<int>();
  }
  float partial = get_f(config, "partial_rotary_factor", 1.0f);
  spec.theta = get_f(config, "rope_theta", 10000.0f);
  json scaling = json::object();
  if (config.contains("rope_scaling") && config["rope_scaling"].is_object()) scaling = config["rope_scaling"];
  if (config.contains("rope_parameters") && config["rope_parameters"].is_object()) {
    json rp = config["rope_parameters"];
    if (!layer_type.empty() && rp.contains(layer_type)) rp = rp[layer_type];
    if (rp.contains("rope_theta")) spec.theta = rp["rope_theta"].get<float>();
    if (rp.contains("partial_rotary_factor")) partial = rp["partial_rotary_factor"].get<float>();
    scaling = rp;
  }
  spec.params = scaling;
  std::string type = scaling.value("rope_type", scaling.value("type", std::string("default")));
  if (type == "su") type = "longrope";
  if (type == "dynamic") type = "linear";  // equal to linear within the trained context
  spec.type = type;
  spec.dims = int(float(head_dim) * partial);
  if (spec.dims % 2) --spec.dims;
  static const char* known[] = {"default", "linear", "llama3", "yarn", "longrope"};
  bool ok = false;
  for (auto* k : known) ok |= type == k;
  if (!ok) throw std::invalid_argument("[rope] unsupported rope scaling type '" + type + "'");
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
    double orig = p.contains("original_max_position_embeddings")
                      ? p["original_max_position_embeddings"].get<double>()
                      : double(spec.max_position_embeddings);
    auto get_mscale = [](double scale, double m) { return scale <= 1 ? 1.0 : 0.1 * m * std::log(scale) + 1.0; };
    double attn = 0;
    if (p.contains("attention_factor") && !p["attention_factor"].is_null()) {
      attn = p["attention_factor"].get<double>();
    } else if (p.contains("mscale") && p.contains("mscale_all_dim") && p["mscale"].get<double>() != 0 &&
               p["mscale_all_dim"].get<double>() != 0) {
      attn = get_mscale(factor, p["mscale"].get<double>()) / get_mscale(factor, p["mscale_all_dim"].get<double>());
    } else {
      attn = get_mscale(factor, 1.0);
    }
    double beta_fast = get_f(p, "beta_fast", 32.0f), beta_slow = get_f(p, "beta_slow", 1.0f);
    bool truncate = p.value("truncate", true);
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
    } else if (p.contains("original_max_position_embeddings")) {
      orig = p["original_max_position_embeddings"].get<double>();
      factor = p.contains("factor") ? p["factor"].get<double>() : double(spec.max_position_embeddings) / orig;
    } else {
      orig = spec.max_position_embeddings;
      factor = get_f(p, "factor", 1.0f);
    }
    double attn;
    if (p.contains("attention_factor") && !p["attention_factor"].is_null()) {
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
