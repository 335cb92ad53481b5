#include "uma/lm/train/trainer.h"

#include <fcntl.h>
#include <stdio.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "uma/core/allocator.h"
#include "uma/core/io/file.h"
#include "uma/core/io/safetensors.h"
#include "uma/core/ops.h"
#include "uma/core/transforms.h"
#include "uma/lm/model.h"
#include "uma/lm/train/data.h"
#include "uma/lm/train/plot.h"
#include "uma/lm/train/train_setup.h"
#include "uma/nn/losses.h"
#include "uma/optim/adam.h"
#include "uma/optim/clip.h"
#include "uma/optim/schedules.h"

namespace uma::lm::train {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {

// sum over counted targets of -log p(target): logits (B, T, V), targets and
// mask (B, T).
array masked_nll_sum(Model& model, const array& inputs, const array& targets, const array& mask) {
  return nn::cross_entropy(astype(model(inputs, nullptr), float32), targets, mask, -1, 0.0, "sum");
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string format_duration(double s) {
  char buf[32];
  auto t = int64_t(s);
  if (t >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", (long long)(t / 3600), (long long)(t / 60 % 60),
                  (long long)(t % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", (long long)(t / 60), (long long)(t % 60));
  }
  return buf;
}

// The run's record of losses, kept in the checkpoint and written as CSV.
struct History {
  std::vector<std::pair<double, double>> train, valid;
  ojson to_json() const { return {{"train", train}, {"valid", valid}}; }
  void from_json(const ojson& j) {
    train = j.at("train").get<std::vector<std::pair<double, double>>>();
    valid = j.at("valid").get<std::vector<std::pair<double, double>>>();
  }
  void drop_after(int64_t step) {
    std::erase_if(train, [&](auto& p) { return p.first > double(step); });
    std::erase_if(valid, [&](auto& p) { return p.first > double(step); });
  }
};

void write_history(const fs::path& dir, const History& h) {
  std::string csv = "step,split,loss\n";
  char buf[64];
  for (auto& [s, l] : h.train) csv += (std::snprintf(buf, sizeof buf, "%lld,train,%.6f\n", (long long)s, l), buf);
  for (auto& [s, l] : h.valid) csv += (std::snprintf(buf, sizeof buf, "%lld,valid,%.6f\n", (long long)s, l), buf);
  io::write_file_atomic((dir / "loss.csv").string(), csv, "train");
  write_loss_plot((dir / "loss.png").string(), LossCurve{h.train, h.valid});
}

// Replaces dir/checkpoint by a complete new one in one step: the new folder
// is built beside it and swapped in (RENAME_EXCHANGE), so a kill at any
// moment leaves a whole checkpoint, old or new.
void save_checkpoint(const fs::path& dir, Model& model, const optim::Optimizer& opt, const ojson& state) {
  fs::path target = dir / "checkpoint";
  io::TempDir tmp(target.string(), "train");
  save_safetensors((fs::path(tmp.path()) / "model.safetensors").string(), model.parameters());
  opt.save_state((fs::path(tmp.path()) / "optimizer.safetensors").string());
  io::write_file_atomic((fs::path(tmp.path()) / "trainer_state.json").string(), state.dump(1), "train");
  if (fs::exists(target)) {
    if (::renameat2(AT_FDCWD, tmp.path().c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) != 0) {
      // A file system without RENAME_EXCHANGE: the old one steps aside
      // first; resume looks there when a kill came in between.
      fs::path old = dir / "checkpoint.old";
      fs::remove_all(old);
      fs::rename(target, old);
      fs::rename(tmp.path(), target);
      tmp.release();
      fs::remove_all(old);
    }
    // Otherwise tmp now names the old checkpoint; its destructor removes it.
  } else {
    fs::rename(tmp.path(), target);
    tmp.release();
  }
}

double evaluate(Model& model, PackedDataset& data, int max_batches) {
  double nll = 0, tokens = 0;
  int64_t n = std::min<int64_t>(max_batches, data.batches_per_epoch());
  for (int64_t i = 0; i < n; ++i) {
    auto b = data.batch(i);
    array s = masked_nll_sum(model, b.inputs, b.targets, b.mask);
    eval(s);
    nll += s.item<float>();
    tokens += double(b.tokens);
  }
  return tokens > 0 ? nll / tokens : std::nan("");
}

}  // namespace

TrainResult train(const TrainConfig& c, const std::function<void(const std::string&)>& log_fn,
                  const std::atomic<bool>* stop) {
  auto log = [&](const std::string& s) {
    if (log_fn) log_fn(s);
  };
  const fs::path out = fs::absolute(c.output).lexically_normal();
  const ojson config_json = train_config_to_json(c);
  RunSetup run = prepare_run(c, out, config_json, log);
  Model& model = *run.model;

  const int64_t steps = c.steps;
  auto schedule = optim::join_schedules(
      {optim::linear_schedule(c.warmup_steps > 0 ? 0.0f : c.learning_rate, c.learning_rate,
                              std::max<int64_t>(c.warmup_steps, 1)),
       optim::cosine_decay(c.learning_rate, std::max<int64_t>(steps - c.warmup_steps, 1), c.min_learning_rate)},
      {c.warmup_steps});
  optim::AdamW opt(schedule, {c.beta1, c.beta2}, 1e-8f, c.weight_decay);

  History history;
  int64_t start = 0;
  TrainResult result;
  if (run.resume) {
    const fs::path ck = out / "checkpoint";
    auto weights = load_safetensors((ck / "model.safetensors").string(), true);
    model.load_weights(weights.first);
    opt.load_state((ck / "optimizer.safetensors").string());
    ojson state = ojson::parse(io::read_small_file((ck / "trainer_state.json").string(), "train"));
    start = state.at("step").get<int64_t>();
    history.from_json(state.at("history"));
    history.drop_after(start);
    result.resumed = true;
    result.steps = start;
    log("resuming from step " + std::to_string(start) + " of " + std::to_string(steps));
  }

  auto loss_fn = [&](const ParamTree& params, const std::vector<array>& in) {
    model.update(params);
    return divide(masked_nll_sum(model, in[0], in[1], in[2]), in[3]);
  };
  auto step_fn = value_and_grad(loss_fn);

  const int64_t micro_per_step = c.grad_accumulation;
  const double tokens_per_step = double(c.batch_size) * c.seq_len * double(micro_per_step);
  auto t0 = std::chrono::steady_clock::now();
  double window_loss = 0, window_tokens_time = 0;
  int64_t window_steps = 0, timed_steps = 0;
  double timed_seconds = 0;
  reset_peak_memory();
  for (int64_t step = start; step < steps; ++step) {
    auto ts = std::chrono::steady_clock::now();
    std::vector<PackedDataset::Batch> micro;
    int64_t counted = 0;
    for (int64_t m = 0; m < micro_per_step; ++m) {
      micro.push_back(run.train_data->batch(step * micro_per_step + m));
      counted += micro.back().tokens;
    }
    ParamTree params = model.parameters();
    array denom(float(std::max<int64_t>(counted, 1)));
    array loss(0.0f);
    ParamTree grads;
    for (auto& b : micro) {
      auto [l, g] = step_fn(params, {b.inputs, b.targets, b.mask, denom});
      loss = add(loss, l);
      if (grads.empty()) {
        grads = std::move(g);
      } else {
        for (auto& [k, v] : g) grads.at(k) = add(grads.at(k), v);
      }
      if (micro_per_step > 1) {  // bounds memory: one micro-batch's graph at a time
        std::vector<array> todo{loss};
        for (auto& [k, v] : grads) todo.push_back(v);
        eval(todo);
      }
    }
    if (c.grad_clip > 0) grads = optim::clip_grad_norm(grads, c.grad_clip).first;
    ParamTree updated = opt.apply_gradients(grads, params);
    model.update(updated);
    std::vector<array> todo = opt.state_arrays();
    for (auto& [k, v] : updated) todo.push_back(v);
    todo.push_back(loss);
    eval(todo);
    const double l = loss.item<float>();
    if (!std::isfinite(l)) {
      throw std::runtime_error("[train] the loss became " + std::to_string(l) + " at step " + std::to_string(step + 1) +
                               "; lower learning_rate or raise warmup_steps (the last checkpoint is intact)");
    }
    const double dt = seconds_since(ts);
    if (step > start) timed_seconds += dt, ++timed_steps;  // the first step pays one-time costs
    window_loss += l, ++window_steps, window_tokens_time += dt;
    history.train.emplace_back(double(step + 1), l);

    const int64_t done = step + 1;
    const bool stopping = stop && stop->load() && done < steps;
    bool last = done == steps || stopping;
    if (done % c.log_every == 0 || last) {
      double tps = tokens_per_step * double(window_steps) / std::max(window_tokens_time, 1e-9);
      double eta = (timed_steps > 0 ? timed_seconds / double(timed_steps) : dt) * double(steps - done);
      char buf[256];
      std::snprintf(buf, sizeof buf, "step %lld/%lld | loss %.4f | lr %.2e | %.0f tok/s | peak %.0f MB | ETA %s",
                    (long long)done, (long long)steps, window_loss / double(window_steps),
                    double(opt.learning_rate()), tps, double(get_peak_memory()) / 1e6, format_duration(eta).c_str());
      log(buf);
      window_loss = 0, window_steps = 0, window_tokens_time = 0;
    }
    if (done % c.eval_every == 0 || done == steps) {
      double v = evaluate(model, *run.valid_data, c.eval_batches);
      history.valid.emplace_back(double(done), v);
      char buf[128];
      std::snprintf(buf, sizeof buf, "step %lld: validation loss %.4f (perplexity %.2f)", (long long)done, v,
                    std::exp(v));
      log(buf);
      result.final_valid_loss = v;
    }
    if (done % c.save_every == 0 || last) {
      ojson state = {{"step", done}, {"config", config_json}, {"history", history.to_json()}};
      save_checkpoint(out, model, opt, state);
      write_history(out, history);
    }
    result.final_train_loss = l;
    result.steps = done;
    if (stopping) {
      result.stopped = true;
      break;
    }
  }
  double total = seconds_since(t0);
  result.tokens_per_second = timed_steps > 0 ? tokens_per_step * double(timed_steps) / timed_seconds
                                             : tokens_per_step * double(steps - start) / std::max(total, 1e-9);
  write_final_model(c, out, model, run);
  if (result.stopped) {
    log("stopped at step " + std::to_string(result.steps) + " of " + std::to_string(steps) + "; wrote the model so far to " +
        out.string() + "; run the same command again to resume");
  } else {
    log("wrote " + out.string() + " (loss curve: " + (out / "loss.png").string() + ")");
  }
  return result;
}

}  // namespace uma::lm::train
