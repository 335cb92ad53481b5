#include "uma/lm/load.h"

#include <filesystem>
#include <fstream>
#include <set>

#include "uma/core/io/safetensors.h"
#include "uma/core/ops.h"

namespace uma::lm {

namespace fs = std::filesystem;

json read_json_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::invalid_argument("[load] cannot open " + path);
  try {
    return json::parse(f);
  } catch (const json::exception& e) {
    throw std::invalid_argument("[load] " + path + " is not valid JSON: " + e.what());
  }
}

namespace {

std::vector<std::string> weight_files(const fs::path& dir) {
  fs::path index = dir / "model.safetensors.index.json";
  if (fs::exists(index)) {
    json j = read_json_file(index.string());
    if (!j.contains("weight_map") || !j["weight_map"].is_object()) {
      throw std::invalid_argument("[load] " + index.string() + " has no weight_map");
    }
    std::set<std::string> files;
    for (auto& [_, v] : j["weight_map"].items()) {
      std::string f = v.get<std::string>();
      if (f.find('/') != std::string::npos || f.find("..") != std::string::npos) {
        throw std::invalid_argument("[load] " + index.string() + " names a shard outside the folder: " + f);
      }
      files.insert(f);
    }
    std::vector<std::string> out;
    for (auto& f : files) {
      fs::path p = dir / f;
      if (!fs::exists(p)) throw std::invalid_argument("[load] missing shard " + p.string());
      out.push_back(p.string());
    }
    return out;
  }
  if (fs::exists(dir / "model.safetensors")) return {(dir / "model.safetensors").string()};
  // Any *.safetensors (some repositories name shards differently).
  std::vector<std::string> out;
  for (auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".safetensors" && e.path().filename().string().rfind("adapters", 0) != 0) {
      out.push_back(e.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  if (out.empty()) throw std::invalid_argument("[load] no model.safetensors in " + dir.string());
  return out;
}

}  // namespace

LoadedModel load_model(const std::string& path, const LoadOptions& opts) {
  if (opts.dtype && !is_floating_point(*opts.dtype)) {
    throw std::invalid_argument(std::string("[load] dtype must be a floating point type, got ") +
                                dtype_name(*opts.dtype));
  }
  fs::path dir(path);
  if (!fs::is_directory(dir)) throw std::invalid_argument("[load] model folder not found: " + path);
  LoadedModel out;
  out.path = path;
  fs::path cfg = dir / "config.json";
  if (!fs::exists(cfg)) throw std::invalid_argument("[load] missing config.json in " + path);
  out.config = read_json_file(cfg.string());
  if (fs::exists(dir / "generation_config.json")) {
    out.generation_config = read_json_file((dir / "generation_config.json").string());
  } else {
    out.generation_config = json::object();
  }
  out.model = create_model(out.config);

  auto files = weight_files(dir);
  size_t total = 0, done = 0;
  for (auto& f : files) total += fs::file_size(f);
  std::map<std::string, array> weights;
  for (auto& f : files) {
    auto [tensors, meta] = load_safetensors(f, !opts.mmap && !opts.dtype);
    for (auto& [name, a] : tensors) weights.insert_or_assign(name, a);
    done += fs::file_size(f);
    if (opts.progress) opts.progress(done, total);
  }
  weights = out.model->sanitize(std::move(weights));
  bool first = true;
  for (auto& [name, a] : weights) {
    if (!is_floating_point(a.dtype())) continue;
    if (opts.dtype && a.dtype() != *opts.dtype) a = astype(a, *opts.dtype);
    if (first) {
      out.dtype = a.dtype();
      first = false;
    }
  }
  out.model->load_weights(weights, true);
  // Materialize casts now (mmapped tensors stay mapped, casts become buffers).
  std::vector<array> all;
  for (auto& [_, a] : out.model->parameters()) {
    all.push_back(a);
    out.weight_bytes += a.nbytes();
  }
  eval(all);
  return out;
}

std::vector<int> eos_token_ids(const LoadedModel& m) {
  std::vector<int> ids;
  auto add = [&](const json& j) {
    if (j.is_number_integer()) {
      ids.push_back(j.get<int>());
    } else if (j.is_array()) {
      for (auto& x : j) {
        if (x.is_number_integer()) ids.push_back(x.get<int>());
      }
    }
  };
  if (m.config.contains("eos_token_id")) add(m.config["eos_token_id"]);
  if (m.generation_config.contains("eos_token_id")) add(m.generation_config["eos_token_id"]);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace uma::lm
