// `uma info`: what a model folder holds; `--system`: the CPU, its features
// and the ISA tier the kernels run at.
#include <filesystem>

#include "uma/cli/command.h"
#include "uma/core/device.h"
#include "uma/lm/load.h"

namespace fs = std::filesystem;

namespace {

int run_info(const std::string& path) {
  using namespace uma;
  lm::LoadOptions lo;
  lo.mmap = true;  // nothing is computed: no need to read the weights
  auto lm = lm::load_model(path, lo);
  bool has_template = fs::exists(fs::path(path) / "chat_template.jinja");
  fs::path tc = fs::path(path) / "tokenizer_config.json";
  if (!has_template && fs::exists(tc)) has_template = lm::read_json_file(tc.string()).contains("chat_template");
  std::string arch = lm.config.contains("architectures") && lm.config["architectures"].is_array() &&
                             !lm.config["architectures"].empty() && lm.config["architectures"][0].is_string()
                         ? lm.config["architectures"][0].get<std::string>()
                         : lm.model->model_type();
  std::printf("model:          %s\n", path.c_str());
  std::printf("architecture:   %s (model_type %s)\n", arch.c_str(), lm.model->model_type().c_str());
  std::printf("parameters:     %.3fB (%zu)\n", double(lm.num_parameters) / 1e9, lm.num_parameters);
  std::printf("dtype:          %s\n", dtype_name(lm.dtype));
  if (lm.quantization) {
    std::printf("quantization:   %s, %d bits, groups of %d\n", lm.quantization->mode.c_str(), lm.quantization->bits,
                lm.quantization->group_size);
  }
  std::printf("size:           %.2f GB\n", double(lm.weight_bytes) / 1e9);
  std::printf("layers:         %d\n", lm.model->num_layers());
  std::printf("vocabulary:     %d\n", lm.model->vocab_size());
  std::printf("context length: %d\n", lm.model->max_context());
  std::printf("chat template:  %s\n", has_template ? "yes" : "no");
  return 0;
}

int run_system() {
  std::printf("%s", uma::device_info(uma::Device{uma::Device::cpu}).c_str());
  std::printf("uma threads:    %d\n", uma::cpu_threads());
  return 0;
}

uma::cli::Registration reg{"info", "Describe a model folder, or this machine (--system)", [](CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto system = std::make_shared<bool>(false);
  auto* model = app.add_option("--model", *path, "Hugging Face model folder");
  app.add_flag("--system", *system,
               "Show the CPU, its features and the ISA tier in use (UMA_CPU_TIER caps it)")
      ->excludes(model);
  return [path, system]() {
    if (*system) return run_system();
    if (path->empty()) throw std::invalid_argument("info: give --model FOLDER, or --system");
    return run_info(*path);
  };
}};

}  // namespace
