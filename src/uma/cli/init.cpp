// `uma init`: a random-weight checkpoint at a real model's shape, with a
// tokenizer copied in, for benchmarks and tests.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "uma/cli/command.h"
#include "uma/cli/common.h"
#include "uma/core/io/file.h"
#include "uma/core/io/safetensors.h"
#include "uma/lm/load.h"
#include "uma/lm/presets.h"
#include "uma/text/tokenizer/tokenizer.h"
#include "uma/uma.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

struct InitOptions {
  std::string preset, tokenizer, out, dtype = "bfloat16";
  uint64_t seed = 0;
  double shard_gb = 2.0;
  bool force = false;
};

// The largest --shard-gb: beyond it size_t arithmetic on shard sizes is no
// longer exact and no real checkpoint has shards that large.
constexpr double kMaxShardGb = 1024.0;

// The output folder, absolute and without a trailing slash; refuses one that
// exists with contents unless --force.
fs::path check_output(const std::string& out_flag, bool force) {
  fs::path out = fs::absolute(out_flag).lexically_normal();
  if (out.filename().empty()) out = out.parent_path();
  std::error_code ec;
  auto st = fs::symlink_status(out, ec);
  if (ec || !fs::exists(st)) return out;
  if (!fs::is_directory(st)) {
    throw std::invalid_argument("[init] --out: " + out_flag + " exists and is not a folder");
  }
  if (!force && !fs::is_empty(out)) {
    throw std::invalid_argument("[init] --out: " + out_flag +
                                " exists and is not empty (pass --force to replace it)");
  }
  return out;
}

// Moves the finished folder `tmp` to `out`; an existing `out` is replaced
// only now, when the new one is complete.
void move_into_place(const fs::path& tmp, const fs::path& out) {
  if (::rename(tmp.c_str(), out.c_str()) == 0) return;  // `out` absent or empty
  if (errno != ENOTEMPTY && errno != EEXIST) {
    throw std::invalid_argument("[init] cannot move " + tmp.string() + " to " + out.string() +
                                ": " + std::strerror(errno));
  }
  uma::io::TempDir old(out.string(), "init");  // a free name beside `out` for the old folder
  fs::path old_path = old.path();
  fs::remove(old_path);
  if (::rename(out.c_str(), old_path.c_str()) != 0) {
    old.release();
    throw std::invalid_argument("[init] cannot replace " + out.string() + ": " +
                                std::strerror(errno));
  }
  if (::rename(tmp.c_str(), out.c_str()) != 0) {
    int err = errno;
    ::rename(old_path.c_str(), out.c_str());  // put the user's folder back
    old.release();
    throw std::invalid_argument("[init] cannot replace " + out.string() + ": " +
                                std::strerror(err));
  }
  // `old` removes the previous folder as it goes out of scope.
}

// Copies a tokenizer file (a regular one only: a FIFO would block).
void copy_small_file(const fs::path& from, const fs::path& to) {
  std::string bytes = uma::io::read_small_file(from.string(), "init");
  std::ofstream f(to, std::ios::binary);
  f << bytes;
  if (!f.flush()) throw std::invalid_argument("[init] cannot write " + to.string());
}

std::optional<int> token_id(const uma::text::tokenizer::Tokenizer& tok, const json& cfg,
                            const char* key) {
  if (!cfg.contains(key)) return std::nullopt;
  const json& v = cfg[key];
  std::string s;
  if (v.is_string()) {
    s = v.get<std::string>();
  } else if (v.is_object() && v.contains("content") && v["content"].is_string()) {
    s = v["content"].get<std::string>();  // an AddedToken dict
  }
  if (s.empty()) return std::nullopt;
  auto id = tok.token_to_id(s);
  return id ? std::optional<int>(*id) : std::nullopt;
}

void write_json(const fs::path& p, const json& j) {
  fs::path tmp = p;
  tmp += ".tmp";
  {
    std::ofstream f(tmp);
    if (!f) throw std::runtime_error("[init] cannot write " + p.string());
    f << j.dump(2) << "\n";
  }
  fs::rename(tmp, p);
}

int run_init(const InitOptions& o) {
  using namespace uma;
  if (!std::isfinite(o.shard_gb) || !(o.shard_gb > 0) || o.shard_gb > kMaxShardGb) {
    char got[32];
    std::snprintf(got, sizeof(got), "%g", o.shard_gb);
    throw std::invalid_argument(std::string("[init] --shard-gb must be in (0, 1024], got ") + got);
  }
  json cfg = lm::preset_config(o.preset);
  Dtype dtype = dtype_from_string(o.dtype);
  if (!is_floating_point(dtype)) throw std::invalid_argument("[init] --dtype must be a float type, got " + o.dtype);
  fs::path tok_dir(o.tokenizer);
  if (!fs::exists(tok_dir / "tokenizer.json")) {
    throw std::invalid_argument("[init] no tokenizer.json in " + o.tokenizer);
  }
  std::optional<text::tokenizer::Tokenizer> tok_holder;
  try {
    tok_holder.emplace(text::tokenizer::Tokenizer::from_file(tok_dir / "tokenizer.json"));
  } catch (const std::bad_alloc&) {
  } catch (const std::length_error&) {
  }
  if (!tok_holder) {
    throw std::invalid_argument(
        "[init] " + (tok_dir / "tokenizer.json").string() +
        ": the tokenizer's ids or sizes do not fit in memory (a corrupt file?)");
  }
  const text::tokenizer::Tokenizer& tok = *tok_holder;
  int limit = tok.id_limit();
  int vocab = cfg["vocab_size"].get<int>();
  if (vocab == 0) {
    vocab = (limit + 63) / 64 * 64;
    cfg["vocab_size"] = vocab;
  } else if (limit > vocab) {
    throw std::invalid_argument("[init] the tokenizer has ids up to " + std::to_string(limit - 1) +
                                ", more than the preset's vocabulary of " + std::to_string(vocab));
  }
  json tcfg = json::object();
  if (fs::exists(tok_dir / "tokenizer_config.json")) tcfg = lm::read_json_file((tok_dir / "tokenizer_config.json").string());
  if (auto b = token_id(tok, tcfg, "bos_token")) cfg["bos_token_id"] = *b;
  if (auto e = token_id(tok, tcfg, "eos_token")) cfg["eos_token_id"] = *e;
  cfg["torch_dtype"] = dtype_name(dtype);

  // Everything is written into a fresh folder beside the output and moved
  // into place at the end: a failure leaves nothing half-written, and a
  // re-run never mixes old shards (or an old index) with new ones.
  fs::path final_out = check_output(o.out, o.force);
  fs::create_directories(final_out.parent_path());
  uma::io::TempDir tmp(final_out.string(), "init");
  const fs::path out = tmp.path();
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                        "chat_template.jinja"}) {
    if (fs::exists(tok_dir / f)) copy_small_file(tok_dir / f, out / f);
  }
  write_json(out / "config.json", cfg);
  json gen = {{"do_sample", false}};
  if (cfg.contains("bos_token_id")) gen["bos_token_id"] = cfg["bos_token_id"];
  if (cfg.contains("eos_token_id")) gen["eos_token_id"] = cfg["eos_token_id"];
  write_json(out / "generation_config.json", gen);

  // Shapes from the model itself, so every architecture's names are right.
  auto model = lm::create_model(cfg);
  auto params = model->parameters();
  array key = random::key(o.seed);
  size_t shard_limit = size_t(o.shard_gb * double(1ull << 30));
  std::vector<std::vector<std::string>> shards(1);
  size_t cur = 0, total = 0;
  for (auto& [name, a] : params) {
    size_t bytes = a.size() * size_of(dtype);
    if (cur > 0 && cur + bytes > shard_limit) {
      shards.emplace_back();
      cur = 0;
    }
    shards.back().push_back(name);
    cur += bytes;
    total += bytes;
  }
  json weight_map = json::object();
  size_t done = 0;
  // Gemma checkpoints store norm weights as w - 1.
  bool norms_offset = cfg["model_type"].get<std::string>().rfind("gemma", 0) == 0;
  for (size_t s = 0; s < shards.size(); ++s) {
    std::string fname = shards.size() == 1 ? "model.safetensors"
                                           : "model-" + std::to_string(s + 1) + "-of-" + std::to_string(shards.size()) +
                                                 ".safetensors";
    std::map<std::string, array> tensors;
    for (auto& name : shards[s]) {
      const array& p = params.at(name);
      bool is_norm = name.find("norm") != std::string::npos;
      array w{0.0f};
      if (is_norm) {
        w = norms_offset ? zeros(p.shape(), dtype) : ones(p.shape(), dtype);
      } else {
        auto ks = random::split(key);
        key = ks.first;
        w = astype(multiply(random::normal(p.shape(), float32, ks.second), array(0.02f)), dtype);
      }
      tensors.emplace(name, w);
      weight_map[name] = fname;
      done += w.nbytes();
    }
    save_safetensors((out / fname).string(), tensors, {{"format", "pt"}});
    std::fprintf(stderr, "\r[init] wrote %.2f / %.2f GB", double(done) / 1e9, double(total) / 1e9);
  }
  std::fprintf(stderr, "\n");
  if (shards.size() > 1) {
    write_json(out / "model.safetensors.index.json", {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}});
  }
  // mkdtemp made the folder 0700; a model folder is as readable as any.
  tmp.make_readable();
  check_output(o.out, o.force);  // nobody filled the output meanwhile
  move_into_place(out, final_out);
  tmp.release();
  std::printf("%s: %s with random weights (%.1fM parameters, %s) and the tokenizer of %s\n",
              o.out.c_str(), o.preset.c_str(), double(model->num_parameters()) / 1e6,
              dtype_name(dtype), o.tokenizer.c_str());
  return 0;
}

uma::cli::Registration reg{
    "init", "Write a random-weight checkpoint at a preset model shape", [](CLI::App& app) {
      auto o = std::make_shared<InitOptions>();
      std::string presets;
      for (auto& p : uma::lm::preset_names()) presets += (presets.empty() ? "" : ", ") + p;
      app.add_option("--preset", o->preset, "Model shape: " + presets)->required();
      app.add_option("--tokenizer", o->tokenizer,
                     "Folder with tokenizer.json (and tokenizer_config.json)")
          ->required();
      app.add_option("--out", o->out, "Output folder")->required();
      app.add_option("--dtype", o->dtype, "Weight dtype (bfloat16, float16, float32)")
          ->capture_default_str();
      app.add_option("--seed", o->seed, "Random seed")->capture_default_str();
      app.add_option("--shard-gb", o->shard_gb, "Largest shard size in GB (at most 1024)")
          ->capture_default_str()
          ->check(uma::cli::positive());
      app.add_flag("--force", o->force,
                   "Replace an existing non-empty output folder (once the new one is complete)");
      return [o]() { return run_init(*o); };
    }};

}  // namespace
