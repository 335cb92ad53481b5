// `uma bench`: prompt processing and generation speed, like llama-bench.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "uma/cli/command.h"
#include "uma/cli/common.h"
#include "uma/core/device.h"
#include "uma/lm/gguf_model.h"
#include "uma/lm/generate.h"
#include "uma/lm/load.h"
#include "uma/uma.h"

namespace {

struct BenchOptions {
  std::string model;
  int prompt = 512, gen = 128, runs = 3, threads = 0;
  bool json = false, mmap = false;
  std::string dtype;
  std::string device = "cpu";
  uma::cli::KVFlags kv;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double stddev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  double m = 0;
  for (double x : v) m += x;
  m /= double(v.size());
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / double(v.size() - 1));
}

int run_bench(const BenchOptions& o) {
  using namespace uma;
  using clock = std::chrono::steady_clock;
  if (o.prompt < 1 || o.gen < 1 || o.runs < 1) throw std::invalid_argument("[bench] -p, -g and -n must be >= 1");
  if (o.threads < 0) throw std::invalid_argument("[bench] -t must be >= 1");
  if (o.threads > 0) set_cpu_threads(o.threads);
  auto kv_quant = cli::kv_quantization(o.kv);
  cli::use_device(o.device);
  lm::LoadOptions lo;
  if (!o.dtype.empty()) lo.dtype = dtype_from_string(o.dtype);
  lo.mmap = o.mmap;
  if (o.model.empty()) {
    throw std::invalid_argument("no --model given, and uma's built-in model was not found (set UMA_DEFAULT_MODEL "
                                "to its folder, or give --model)");
  }
  auto lm = lm::load_model(cli::resolve_model(o.model), lo);
  auto& model = *lm.model;
  // A fixed pseudo-random prompt inside the vocabulary.
  std::vector<int> prompt(o.prompt);
  uint32_t st = 12345;
  for (auto& t : prompt) {
    st = st * 1664525u + 1013904223u;
    t = int((st >> 8) % uint32_t(model.vocab_size()));
  }
  std::vector<double> pp, tg;
  for (int r = 0; r < o.runs + 1; ++r) {  // the first run warms up
    auto cache = model.make_cache();
    if (kv_quant) lm::check_kv_quantization(model, cache, *kv_quant);
    auto t0 = clock::now();
    array logits = model.last_logits(array(prompt, {1, o.prompt}), &cache);  // as generation's prefill
    std::vector<array> outs{logits};
    if (kv_quant && lm::maybe_quantize_kv_cache(cache, *kv_quant) > 0) {
      for (auto& c : cache)
        for (auto& a : c->state()) outs.push_back(a);
    }
    eval(outs);
    if (r == 0) lm::check_finite_logits(model, logits, prompt);  // garbage is no benchmark
    double pp_s = std::chrono::duration<double>(clock::now() - t0).count();
    lm::GenerateOptions g;
    g.max_tokens = o.gen + 1;
    g.kv_quant = kv_quant;
    lm::StepStats last;
    lm::generate_tokens(model, {prompt[0]}, g, [&](int, const lm::StepStats& s) {
      last = s;
      return true;
    });
    if (r == 0) continue;
    pp.push_back(o.prompt / pp_s);
    tg.push_back(last.generation_tps());
  }
  double pp_med = median(pp), tg_med = median(tg);
  std::string name = lm.model->model_type() + " " + std::to_string(lm.num_parameters / 1000000) + "M " +
                     dtype_name(lm.dtype);
  // A GGUF file by its own file type, as llama-bench names it ("llama 1235M
  // float16 Q4_K_M"; its layers' quantization entries are uma's bookkeeping).
  const std::string file_type = lm::is_gguf_file(lm.path) ? lm::gguf_file_type(lm.path) : "";
  if (!file_type.empty()) {
    name += " " + file_type;
  } else if (lm.quantization) {  // e.g. "llama 1235M bfloat16 4-bit g64"
    name += " " + std::to_string(lm.quantization->bits) + "-bit";
    name += lm.quantization->mode == "affine" ? " g" + std::to_string(lm.quantization->group_size)
                                              : " " + lm.quantization->mode;
  }
  int threads = cpu_threads();
  const bool on_gpu = default_device().type == Device::gpu;
  if (o.json) {
    std::printf("{\"model\": \"%s\", \"params\": %zu, \"size_bytes\": %zu, \"dtype\": \"%s\", \"backend\": \"%s\", "
                "\"threads\": %d, "
                "\"n_prompt\": %d, \"n_gen\": %d, \"runs\": %d, \"pp_tok_s\": %.3f, \"tg_tok_s\": %.3f, "
                "\"pp_runs\": [",
                o.model.c_str(), lm.num_parameters, lm.weight_bytes, dtype_name(lm.dtype), on_gpu ? "CUDA" : "CPU",
                threads, o.prompt,
                o.gen, o.runs, pp_med, tg_med);
    for (size_t i = 0; i < pp.size(); ++i) std::printf("%s%.3f", i ? ", " : "", pp[i]);
    std::printf("], \"tg_runs\": [");
    for (size_t i = 0; i < tg.size(); ++i) std::printf("%s%.3f", i ? ", " : "", tg[i]);
    std::printf("], \"peak_memory_bytes\": %zu}\n", get_peak_memory());
    return 0;
  }
  std::printf("| model                          |       size |     params | backend | threads |  test |              t/s |\n");
  std::printf("| ------------------------------ | ---------: | ---------: | ------- | ------: | ----: | ---------------: |\n");
  auto row = [&](const char* test, int n, double med, double sd) {
    char t[32];
    std::snprintf(t, sizeof t, "%s%d", test, n);
    std::printf("| %-30s | %6.2f GiB | %8.2f B | %-7s | %7d | %5s | %8.2f ± %5.2f |\n", name.c_str(),
                double(lm.weight_bytes) / double(1ull << 30), double(lm.num_parameters) / 1e9,
                on_gpu ? "CUDA" : "CPU", threads, t, med, sd);
  };
  row("pp", o.prompt, pp_med, stddev(pp));
  row("tg", o.gen, tg_med, stddev(tg));
  std::printf("(median of %d runs)\n", o.runs);
  return 0;
}

uma::cli::Registration reg{"bench", "Measure prompt processing and generation speed", [](CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  o->model = uma::cli::builtin_model_dir();
  app.add_option("--model,-m", o->model, "Model folder or Hugging Face repo id org/name (default: uma's built-in model)");
  app.add_option("-p,--n-prompt", o->prompt, "Prompt tokens")->capture_default_str();
  app.add_option("-g,--n-gen", o->gen, "Generated tokens")->capture_default_str();
  app.add_option("-n,--repetitions", o->runs, "Runs (the median is reported)")->capture_default_str();
  app.add_option("-t,--threads", o->threads, "Threads (default: UMA_NUM_THREADS or all cores)");
  app.add_option("--dtype", o->dtype, "Compute in this dtype instead of the stored one");
  app.add_flag("--mmap", o->mmap, "Map the weight files instead of reading them into memory");
  app.add_flag("--json", o->json, "Print one JSON object");
  app.add_option("--device", o->device, "Compute on cpu, gpu (CUDA), or auto (the GPU when there is one)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "cpu", "gpu"}));
  uma::cli::add_kv_flags(app, o->kv);
  return [o]() { return run_bench(*o); };
}};

}  // namespace
