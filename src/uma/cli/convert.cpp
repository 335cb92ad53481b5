// `uma convert`: mlx-lm's `mlx_lm.convert` (lm/convert.h), with its flags;
// --gguf-path writes one GGUF file for llama.cpp instead.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <stdexcept>

#include "uma/cli/command.h"
#include "uma/cli/common.h"
#include "uma/lm/convert.h"

namespace {

// "[convert] [#########...........] 120/291 tensors, 0.41/1.02 GB": redrawn
// in place on a terminal, and printed at each tenth otherwise (logs).
void draw_progress(const uma::lm::ConvertProgress& p) {
  static int last_tenth = -1;
  bool tty = ::isatty(STDERR_FILENO);
  double f = p.bytes_total ? double(p.bytes_done) / double(p.bytes_total)
                           : (p.tensors_total ? double(p.tensors_done) / double(p.tensors_total) : 1.0);
  bool done = p.tensors_done == p.tensors_total;
  int tenth = int(f * 10);
  if (!tty && !done && tenth == last_tenth) return;
  last_tenth = tenth;
  constexpr int kWidth = 30;
  int filled = int(f * kWidth);
  std::string bar(size_t(filled), '#');
  bar.append(size_t(kWidth - filled), '.');
  std::fprintf(stderr, "%s[convert] [%s] %zu/%zu tensors, %.2f/%.2f GB%s", tty ? "\r" : "", bar.c_str(),
               p.tensors_done, p.tensors_total, double(p.bytes_done) / 1e9, double(p.bytes_total) / 1e9,
               done || !tty ? "\n" : "");
}

uma::cli::Registration reg{
    "convert",
    "Convert a Hugging Face model folder to MLX format (quantize, dequantize, cast), as mlx_lm.convert, or to one "
    "GGUF file for llama.cpp (--gguf-path)",
    [](CLI::App& app) {
      auto o = std::make_shared<uma::lm::ConvertOptions>();
      auto upload_repo = std::make_shared<std::string>();
      auto trust_remote_code = std::make_shared<bool>(false);
      app.add_option("--hf-path,--model", o->hf_path, "Hugging Face model folder, or a repo id org/name to download")->required();
      app.add_option("--mlx-path", o->mlx_path, "Path to save the MLX model (must not exist)")
          ->capture_default_str();
      app.add_flag("-q,--quantize", o->quantize, "Generate a quantized model");
      app.add_option("--q-group-size", o->q_group_size, "Group size for quantization (default: the mode's; affine 64)");
      app.add_option("--q-bits", o->q_bits, "Bits per weight for quantization (default: the mode's; affine 4)");
      app.add_option("--q-mode", o->q_mode, "The quantization mode")
          ->capture_default_str()
          ->check(CLI::IsMember({"affine", "mxfp4", "nvfp4", "mxfp8"}));
      app.add_option("--quant-predicate", o->quant_predicate, "Mixed-bit quantization recipe")
          ->check(CLI::IsMember(uma::lm::quant_recipes()));
      app.add_option("--dtype", o->dtype,
                     "Type to save the non-quantized parameters. Defaults to config.json's `torch_dtype` or the "
                     "current model weights dtype.")
          ->check(CLI::IsMember({"float16", "bfloat16", "float32"}));
      app.add_flag("-d,--dequantize", o->dequantize, "Dequantize a quantized model");
      app.add_option("--gguf-path", o->gguf_path,
                     "Write one GGUF file here instead of an MLX folder (must not exist), as llama.cpp's "
                     "convert_hf_to_gguf.py writes it: llama, mistral, qwen2, qwen3, phi3, gemma2, gemma3");
      app.add_option("--gguf-type", o->gguf_type,
                     "Type of the GGUF file's 2-D weights, with llama-quantize's per-tensor choices for the "
                     "quantized types and K-quant mixes (norms and biases stay f32)")
          ->capture_default_str()
          ->check(CLI::IsMember(uma::lm::gguf_types()));
      app.add_option("--upload-repo", *upload_repo, "Not supported: uma does not upload to the Hugging Face Hub");
      app.add_flag("--trust-remote-code", *trust_remote_code, "Not supported: uma runs no code from model folders");
      return [o, upload_repo, trust_remote_code]() {
        if (!upload_repo->empty()) {
          throw std::invalid_argument(
              "[convert] --upload-repo is not supported: uma does not upload to the Hugging Face Hub (upload the "
              "converted folder with `huggingface-cli upload`)");
        }
        if (*trust_remote_code) {
          throw std::invalid_argument(
              "[convert] --trust-remote-code is not supported: uma runs no code from model folders and converts "
              "only the architectures it implements");
        }
        o->log = [](const std::string& line) { std::printf("%s\n", line.c_str()); std::fflush(stdout); };
        o->progress = draw_progress;
        o->hf_path = uma::cli::resolve_model(o->hf_path);
        auto r = uma::lm::convert(*o);
        if (!o->gguf_path.empty()) {
          std::printf("[INFO] Wrote %s: %s, %.2f GB, %.1fM parameters\n", o->gguf_path.c_str(), o->gguf_type.c_str(),
                      double(r.total_size) / 1e9, double(r.total_parameters) / 1e6);
          return 0;
        }
        std::printf("[INFO] Wrote %s: %zu file%s, %.2f GB, %.1fM parameters\n", o->mlx_path.c_str(), r.shards.size(),
                    r.shards.size() == 1 ? "" : "s", double(r.total_size) / 1e9, double(r.total_parameters) / 1e6);
        return 0;
      };
    }};

}  // namespace
