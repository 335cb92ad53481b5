#include "uma/cli/common.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <cstdio>
#include <new>
#include <stdexcept>

#include "uma/hub/resolve.h"
#include "uma/text/grammar/json_schema.h"

namespace uma::cli {

namespace {
CLI::Validator lower_bound(bool strict) {
  return CLI::Validator(
      [strict](std::string& s) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(s, v)) return "'" + s + "' is not a number";
        if (strict ? v > 0 : v >= 0) return "";
        return std::string("must be ") + (strict ? "> 0" : ">= 0") + ", got " + s;
      },
      strict ? "POSITIVE" : "NONNEGATIVE");
}
}  // namespace

CLI::Validator non_negative() { return lower_bound(false); }
CLI::Validator positive() { return lower_bound(true); }

void add_model_flags(CLI::App& app, ModelFlags& f) {
  if (f.model.empty()) f.model = builtin_model_dir();
  app.add_option("--model", f.model,
                 "Model folder, .gguf file or Hugging Face repo id org/name[@revision][:QUANT] (default: uma's "
                 "built-in model)");
  app.add_option("--gguf-file", f.gguf_file, "With a repo id: download and run this .gguf file of the repo");
  app.add_option("--dtype", f.dtype, "Compute in this dtype (float32, bfloat16, float16) instead of the stored one");
  app.add_flag("--mmap", f.mmap, "Map the weight files instead of reading them into memory (starts sooner, decodes slower)");
  app.add_option("--max-kv-size", f.max_kv_size, "Bound the KV cache to this many tokens (rotating)")
      ->check(positive());
  app.add_option("--prefill-step-size", f.prefill_step_size, "Prompt tokens processed per step")
      ->capture_default_str()
      ->check(positive());
  app.add_option("--device", f.device, "Compute on cpu, gpu (CUDA), or auto (the GPU when there is one)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "cpu", "gpu"}));
}

void use_device(const std::string& device) {
  Device gpu{Device::gpu, 0};
  if (device == "gpu" || (device == "auto" && is_available(gpu))) {
    if (!is_available(gpu)) {
      throw std::invalid_argument("--device gpu: no GPU (this build has no CUDA backend, or the machine no usable "
                                  "CUDA device); see `uma info --system`");
    }
    set_default_device(gpu);
  } else {
    set_default_device(Device{Device::cpu, 0});
  }
}

void add_sampling_flags(CLI::App& app, SamplingFlags& f) {
  app.add_option("-m,--max-tokens", f.max_tokens, "Most tokens to generate")->capture_default_str()->check(non_negative());
  app.add_option("--temp", f.temp, "Sampling temperature (0: greedy)")->capture_default_str()->check(non_negative());
  app.add_option("--top-p", f.top_p, "Nucleus sampling threshold")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--top-k", f.top_k, "Sample from the k most likely tokens (0: all)")->capture_default_str()->check(non_negative());
  app.add_option("--min-p", f.min_p, "Drop tokens below min_p times the top probability")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--seed", f.seed, "Random seed");
  app.add_option("--repetition-penalty", f.repetition_penalty, "Penalty for repeated tokens (1: off)")->check(positive());
  app.add_option("--repetition-context-size", f.repetition_context_size, "Tokens the repetition penalty looks at")->check(positive());
  app.add_option("--presence-penalty", f.presence_penalty, "Subtracted from tokens already present");
  app.add_option("--frequency-penalty", f.frequency_penalty, "Subtracted per occurrence");
  app.add_option("--xtc-probability", f.xtc_probability, "XTC: chance to exclude the top choices")->check(CLI::Range(0.0, 1.0));
  app.add_option("--xtc-threshold", f.xtc_threshold, "XTC: probability threshold")->check(CLI::Range(0.0, 0.5));
  app.add_option("--stop", f.stop, "Stop when this text appears (repeatable)");
  app.add_option("--logit-bias", f.logit_bias, "JSON object mapping token ids to biases, e.g. '{\"13\": -100}'");
}

void add_grammar_flags(CLI::App& app, SamplingFlags& f) {
  auto* g = app.add_option("--grammar", f.grammar,
                           "Constrain the answer to a GBNF grammar (llama.cpp's syntax; root rule 'root'): a file or "
                           "the grammar's text");
  auto* j = app.add_option("--json-schema", f.json_schema,
                           "Constrain the answer to JSON valid against this JSON schema: a file or the schema's text");
  g->excludes(j);
}

namespace {
// A flag's value: the file it names, else the text itself.
std::string file_or_text(const std::string& value, const std::string& flag) {
  std::error_code ec;
  if (value.find('\n') == std::string::npos && std::filesystem::is_regular_file(value, ec)) {
    std::ifstream in(value, std::ios::binary);
    if (!in) throw std::invalid_argument(flag + ": cannot read " + value);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return value;
}

lm::GrammarPtr grammar_from_flags(const SamplingFlags& s) {
  if (!s.grammar.empty()) return lm::compile_grammar(file_or_text(s.grammar, "--grammar"), "--grammar");
  if (s.json_schema.empty()) return nullptr;
  nlohmann::ordered_json schema;
  try {
    schema = nlohmann::ordered_json::parse(file_or_text(s.json_schema, "--json-schema"));
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("--json-schema is not a JSON file or JSON text: ") + e.what());
  }
  try {
    return lm::compile_grammar(text::grammar::json_schema_to_grammar(schema), "--json-schema");
  } catch (const std::invalid_argument& e) {
    std::string what = e.what();
    throw std::invalid_argument(what.rfind("--json-schema", 0) == 0 ? what : "--json-schema: " + what);
  }
}
}  // namespace

void add_kv_flags(CLI::App& app, KVFlags& f) {
  app.add_option("--kv-bits", f.kv_bits,
                 "Quantize the KV cache to this many bits (2, 3, 4, 5, 6, 8); default: no quantization");
  app.add_option("--kv-group-size", f.kv_group_size, "Group size for KV cache quantization (32, 64, 128)")
      ->capture_default_str();
  app.add_option("--quantized-kv-start", f.quantized_kv_start,
                 "With --kv-bits, quantize the KV cache once it holds this many tokens")
      ->capture_default_str();
}

std::optional<lm::KVQuantization> kv_quantization(const KVFlags& f) {
  lm::KVQuantization q{f.kv_bits.value_or(8), f.kv_group_size, f.quantized_kv_start};
  lm::check_kv_quantization(q);  // the group size and start are checked even without --kv-bits
  if (!f.kv_bits) return std::nullopt;
  return q;
}

lm::PromptCacheFile load_prompt_cache_for(const lm::Loaded& lm, const std::string& path, const ModelFlags& m,
                                          const KVFlags& kv) {
  lm::PromptCacheFile file = lm::load_prompt_cache(path);
  lm::check_prompt_cache(file, *lm.model, lm.dtype, m.max_kv_size, path);
  for (auto& c : file.caches) {
    auto* q = dynamic_cast<const lm::QuantizedKVCache*>(c.get());
    if (!q) continue;
    if (kv.kv_bits && *kv.kv_bits != q->bits()) {
      throw std::invalid_argument("--kv-bits " + std::to_string(*kv.kv_bits) + " does not match the " +
                                  std::to_string(q->bits()) + "-bit KV cache in " + path);
    }
    if (kv.kv_group_size != q->group_size()) {
      throw std::invalid_argument("--kv-group-size " + std::to_string(kv.kv_group_size) +
                                  " does not match the KV cache in " + path + " (group size " +
                                  std::to_string(q->group_size()) + ")");
    }
  }
  return file;
}

text::tokenizer::LoadedTokenizer load_tokenizer(const std::string& path) {
  try {
    return text::tokenizer::load_tokenizer(path);
  } catch (const std::bad_alloc&) {
  } catch (const std::length_error&) {
  }
  throw std::invalid_argument(
      "[tokenizer] " + path +
      ": the tokenizer's ids or sizes do not fit in memory (a corrupt tokenizer.json?)");
}

std::string resolve_model(const std::string& model, const std::string& gguf_file, bool weights) {
  hub::ResolveOptions o;
  o.gguf_file = gguf_file;
  o.weights = weights;
  if (!weights) o.allow_patterns = hub::tokenizer_patterns();
  o.progress = hub::stderr_progress();
  std::string path = hub::resolve_model(model, o);
  if (!gguf_file.empty() && path == model) {
    throw std::invalid_argument("--gguf-file needs --model to be a Hugging Face repo id (org/name), got " + model);
  }
  return path;
}

std::string builtin_model_dir() {
  if (const char* env = std::getenv("UMA_DEFAULT_MODEL"); env && *env) return env;
  namespace fs = std::filesystem;
  std::vector<fs::path> places;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) places.push_back(exe.parent_path().parent_path() / "share" / "uma" / "models" / "uma-dict");
#ifdef UMA_SOURCE_MODEL_DIR
  places.push_back(UMA_SOURCE_MODEL_DIR);
#endif
  for (auto& p : places) {
    if (fs::exists(p / "config.json", ec)) return p.string();
  }
  return "";
}

lm::Loaded load_all(const ModelFlags& f, bool quiet) {
  if (f.model.empty()) {
    throw std::invalid_argument("no --model given, and uma's built-in model was not found (set UMA_DEFAULT_MODEL "
                                "to its folder, or give --model)");
  }
  use_device(f.device);
  lm::LoadOptions lo;
  if (!f.dtype.empty()) lo.dtype = dtype_from_string(f.dtype);
  lo.mmap = f.mmap;
  if (!quiet) {
    lo.progress = [](size_t done, size_t total) {
      if (total > (size_t(256) << 20)) {
        std::fprintf(stderr, "\rloading %.1f / %.1f GB", double(done) / 1e9, double(total) / 1e9);
        if (done == total) std::fprintf(stderr, "\n");
      }
    };
  }
  return lm::load(resolve_model(f.model, f.gguf_file), lo);
}

lm::TextOptions text_options(const ModelFlags& m, const SamplingFlags& s) {
  lm::TextOptions o;
  o.gen.max_tokens = s.max_tokens;
  o.gen.max_kv_size = m.max_kv_size;
  o.gen.prefill_step_size = m.prefill_step_size;
  o.gen.sampler.temp = s.temp;
  o.gen.sampler.top_p = s.top_p;
  o.gen.sampler.top_k = s.top_k;
  o.gen.sampler.min_p = s.min_p;
  o.gen.sampler.seed = s.seed;
  o.gen.sampler.xtc_probability = s.xtc_probability;
  o.gen.sampler.xtc_threshold = s.xtc_threshold;
  o.gen.logits.repetition_penalty = s.repetition_penalty;
  o.gen.logits.repetition_context_size = s.repetition_context_size;
  o.gen.logits.presence_penalty = s.presence_penalty;
  o.gen.logits.frequency_penalty = s.frequency_penalty;
  if (!s.logit_bias.empty()) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(s.logit_bias);
    } catch (const std::exception& e) {
      throw std::invalid_argument(std::string("--logit-bias is not valid JSON: ") + e.what());
    }
    if (!j.is_object()) throw std::invalid_argument("--logit-bias must be a JSON object of token id to bias");
    for (auto& [k, v] : j.items()) {
      size_t pos = 0;
      int id = -1;
      try {
        id = std::stoi(k, &pos);
      } catch (...) {
      }
      if (pos != k.size() || id < 0 || !v.is_number()) {
        throw std::invalid_argument("--logit-bias: '" + k + "' is not a token id with a numeric bias");
      }
      o.gen.logits.logit_bias[id] = v.get<float>();
    }
  }
  o.stop_strings = s.stop;
  o.grammar = grammar_from_flags(s);
  return o;
}

nlohmann::ordered_json chat_template_kwargs(const std::string& text) {
  if (text.empty()) return nlohmann::ordered_json::object();
  nlohmann::ordered_json kwargs;
  try {
    kwargs = nlohmann::ordered_json::parse(text);
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string("--chat-template-config is not valid JSON: ") + e.what());
  }
  if (!kwargs.is_object()) throw std::invalid_argument("--chat-template-config must be a JSON object");
  return kwargs;
}

}  // namespace uma::cli
