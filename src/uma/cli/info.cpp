// `uma info`: what a model folder or GGUF file holds; `--system`: the CPU, its features
// and the ISA tier the kernels run at.
#include <filesystem>
#include <map>

#include "uma/cli/command.h"
#include "uma/cli/common.h"
#include "uma/core/device.h"
#include "uma/core/io/gguf.h"
#include "uma/lm/gguf_model.h"
#include "uma/lm/load.h"

namespace fs = std::filesystem;

namespace {

// The class of a llama.cpp tensor name, for the per-class type table.
std::string tensor_class(std::string_view name) {
  if (name == "token_embd.weight") return "embedding";
  if (name == "output.weight") return "output head";
  if (name.find("norm") != std::string_view::npos) return "norms";
  for (const char* k : {"attn_q.", "attn_k.", "attn_v.", "attn_qkv.", "attn_output."}) {
    if (name.find(k) != std::string_view::npos) return std::string(k).substr(0, std::string(k).size() - 1);
  }
  for (const char* k : {"ffn_gate.", "ffn_up.", "ffn_down."}) {
    if (name.find(k) != std::string_view::npos) return std::string(k).substr(0, std::string(k).size() - 1);
  }
  return "other";
}

// A GGUF file's own description: its types per tensor class, file type and
// size as stored.
void print_gguf(const std::string& path) {
  auto f = uma::io::gguf::File::open(path);
  std::map<std::string, std::map<std::string, int>> classes;
  for (const auto& t : f.tensors()) {
    const auto* tr = uma::io::gguf::type_traits(t.type);
    classes[tensor_class(t.name)][tr ? tr->name : "type " + std::to_string(t.type)]++;
  }
  std::printf("format:         GGUF v%u, %zu tensors, %.2f GB as stored\n", f.version(), f.tensors().size(),
              double(f.bytes().size()) / 1e9);
  if (const auto* n = f.get("general.name"); n && n->type() == uma::io::gguf::ValueType::STRING) {
    std::printf("name:           %.*s\n", int(std::min<size_t>(n->as_string().size(), 200)), n->as_string().data());
  }
  if (const auto* t = f.get("general.file_type")) {
    try {
      uint64_t v = t->as_uint();
      const char* name = uma::lm::gguf_file_type_name(v);
      std::printf("file type:      %s (general.file_type %llu)\n", *name ? name : "unknown", (unsigned long long)v);
    } catch (const std::exception&) {
      // not an integer: a description of the file has no use for it
    }
  }
  std::printf("tensor types:\n");
  for (const auto& [cls, types] : classes) {
    std::string line;
    for (const auto& [type, count] : types) line += (line.empty() ? "" : ", ") + type + " x" + std::to_string(count);
    std::printf("  %-14s%s\n", cls.c_str(), line.c_str());
  }
}

int run_info(const std::string& path) {
  using namespace uma;
  lm::LoadOptions lo;
  lo.mmap = true;  // nothing is computed: no need to read the weights
  auto lm = lm::load_model(path, lo);
  const bool gguf = lm::is_gguf_file(path);
  bool has_template = gguf ? io::gguf::File::open(path).get("tokenizer.chat_template") != nullptr
                           : fs::exists(fs::path(path) / "chat_template.jinja");
  fs::path tc = fs::path(path) / "tokenizer_config.json";
  if (!gguf && !has_template && fs::exists(tc)) has_template = lm::read_json_file(tc.string()).contains("chat_template");
  std::string arch = lm.config.contains("architectures") && lm.config["architectures"].is_array() &&
                             !lm.config["architectures"].empty() && lm.config["architectures"][0].is_string()
                         ? lm.config["architectures"][0].get<std::string>()
                         : lm.model->model_type();
  std::printf("model:          %s\n", path.c_str());
  std::printf("architecture:   %s (model_type %s)\n", arch.c_str(), lm.model->model_type().c_str());
  std::printf("parameters:     %.3fB (%zu)\n", double(lm.num_parameters) / 1e9, lm.num_parameters);
  std::printf("dtype:          %s\n", dtype_name(lm.dtype));
  if (lm.quantization && !gguf) {
    std::printf("quantization:   %s, %d bits, groups of %d\n", lm.quantization->mode.c_str(), lm.quantization->bits,
                lm.quantization->group_size);
  }
  std::printf("size:           %.2f GB\n", double(lm.weight_bytes) / 1e9);
  std::printf("layers:         %d\n", lm.model->num_layers());
  std::printf("vocabulary:     %d\n", lm.model->vocab_size());
  std::printf("context length: %d\n", lm.model->max_context());
  std::printf("chat template:  %s\n", has_template ? "yes" : "no");
  if (gguf) print_gguf(path);
  return 0;
}

int run_system() {
  std::printf("%s", uma::device_info(uma::Device{uma::Device::cpu}).c_str());
  std::printf("uma threads:    %d\n", uma::cpu_threads());
  // GPUs: those the CUDA backend sees (none in a CPU-only build).
  int gpus = 0;
  while (uma::is_available(uma::Device{uma::Device::gpu, gpus})) ++gpus;
  if (gpus == 0) std::printf("gpus:           none\n");
  for (int i = 0; i < gpus; ++i) std::printf("%s", uma::device_info(uma::Device{uma::Device::gpu, i}).c_str());
  return 0;
}

uma::cli::Registration reg{"info", "Describe a model (folder or .gguf file), or this machine (--system)", [](CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto system = std::make_shared<bool>(false);
  auto* model = app.add_option("--model", *path, "Model folder, .gguf file or Hugging Face repo id org/name[:QUANT]");
  app.add_flag("--system", *system,
               "Show the CPU, its features and the ISA tier in use (UMA_CPU_TIER caps it)")
      ->excludes(model);
  return [path, system]() {
    if (*system) return run_system();
    if (path->empty()) throw std::invalid_argument("info: give --model FOLDER, or --system");
    return run_info(uma::cli::resolve_model(*path));
  };
}};

}  // namespace
