#include "uma/lm/train/train_setup.h"

#include <algorithm>
#include <fstream>
#include <numeric>
#include <random>

#include "uma/core/io/file.h"
#include "uma/core/io/safetensors.h"
#include "uma/core/ops.h"
#include "uma/core/parallel.h"
#include "uma/lm/load.h"
#include "uma/text/tokenizer/bpe_trainer.h"

namespace uma::lm::train {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {

const char* kBos = "<|begin_of_text|>";
const char* kEndOfText = "<|end_of_text|>";
const char* kEot = "<|eot_id|>";
const std::vector<std::string> kSpecials = {kBos, kEndOfText, "<|start_header_id|>", "<|end_header_id|>", kEot};

void write_json_file(const fs::path& path, const ojson& j) {
  io::write_file_atomic(path.string(), j.dump(2) + "\n", "train");
}

// Configs are equal but for where the run writes to.
std::string first_difference(ojson a, ojson b) {
  a.erase("output");
  b.erase("output");
  for (auto& [k, v] : a.items()) {
    if (!b.contains(k) || b[k] != v) return k;
  }
  for (auto& [k, v] : b.items()) {
    if (!a.contains(k)) return k;
  }
  return "";
}

// out: absent or empty -> a new run; holding this run -> resume or restart.
bool check_output(const fs::path& out, const ojson& config_json) {
  if (!fs::exists(out)) {
    fs::create_directories(out);
    return false;
  }
  if (!fs::is_directory(out)) throw std::invalid_argument("[train] output " + out.string() + " is not a folder");
  fs::path saved = out / "train_config.json";
  if (!fs::exists(saved)) {
    if (!fs::is_empty(out)) {
      throw std::invalid_argument("[train] output folder " + out.string() +
                                  " exists and holds no uma training run; choose a new folder");
    }
    return false;
  }
  ojson prev;
  try {
    prev = ojson::parse(io::read_small_file(saved.string(), "train"));
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument("[train] " + saved.string() + " is not valid JSON: " + e.what());
  }
  std::string diff = first_difference(prev, config_json);
  if (!diff.empty()) {
    throw std::invalid_argument("[train] output folder " + out.string() + " holds a run with a different '" + diff +
                                "'; use the same config to resume it, or a new output folder");
  }
  // A kill between the two renames of save_checkpoint's fallback leaves
  // only checkpoint.old: it is the latest whole checkpoint.
  if (!fs::exists(out / "checkpoint") && fs::exists(out / "checkpoint.old" / "trainer_state.json")) {
    fs::rename(out / "checkpoint.old", out / "checkpoint");
  }
  return fs::exists(out / "checkpoint" / "trainer_state.json");
}

std::vector<Document> read_all(const std::vector<std::string>& files) {
  std::vector<Document> docs;
  for (auto& f : files) {
    auto d = read_documents(f);
    docs.insert(docs.end(), std::make_move_iterator(d.begin()), std::make_move_iterator(d.end()));
  }
  return docs;
}

void train_tokenizer(const TrainConfig& c, const std::vector<Document>& docs, const fs::path& out,
                     const std::function<void(const std::string&)>& log) {
  text::tokenizer::BpeTrainer trainer({.vocab_size = size_t(c.tokenizer_vocab_size),
                                       .min_frequency = 2,
                                       .special_tokens = kSpecials,
                                       .bos_token = kBos});
  std::vector<std::string> texts;
  for (const auto& d : docs) {
    texts.clear();
    document_texts(d, texts);
    for (auto& t : texts) trainer.feed(t);
  }
  log("training a byte-level BPE tokenizer of " + std::to_string(c.tokenizer_vocab_size) + " tokens on " +
      std::to_string(trainer.distinct_words()) + " distinct words");
  write_json_file(out / "tokenizer.json", trainer.finish());
  ojson added = ojson::object();
  for (size_t i = 0; i < kSpecials.size(); ++i) {
    added[std::to_string(i)] = {{"content", kSpecials[i]}, {"lstrip", false}, {"normalized", false},
                                {"rstrip", false},       {"single_word", false}, {"special", true}};
  }
  write_json_file(out / "tokenizer_config.json",
                  {{"added_tokens_decoder", added},
                   {"bos_token", kBos},
                   {"eos_token", kEot},
                   {"chat_template", c.chat_template.empty() ? default_chat_template() : c.chat_template},
                   {"clean_up_tokenization_spaces", false},
                   {"model_max_length", c.seq_len},
                   {"tokenizer_class", "PreTrainedTokenizerFast"}});
}

void copy_tokenizer(const fs::path& from, const fs::path& out) {
  if (!fs::exists(from / "tokenizer.json")) {
    throw std::invalid_argument("[train] tokenizer folder " + from.string() + " has no tokenizer.json");
  }
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja"}) {
    if (!fs::exists(from / f)) continue;
    io::write_file_atomic((out / f).string(), io::read_small_file((from / f).string(), "train", uint64_t(1) << 30),
                          "train");
  }
}

std::vector<Example> tokenize_all(const std::vector<Document>& docs, const text::tokenizer::Tokenizer& tok,
                                  const TokenizeOptions& opt) {
  std::vector<Example> out(docs.size());
  cpu_parallel_for(docs.size(), 16, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) out[i] = tokenize_document(docs[i], tok, opt);
  });
  return out;
}

// The model's config.json fields: `model`, over init_from's config.json.
ojson base_model_config(const TrainConfig& c) {
  if (c.init_from.empty()) return c.model;
  const std::string path = (fs::path(c.init_from) / "config.json").string();
  ojson m;  // in the file's key order; read_small_file: regular and size-capped
  try {
    m = ojson::parse(io::read_small_file(path, "train"));
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument("[train] " + path + " is not valid JSON: " + e.what());
  }
  if (m.contains("quantization") || m.contains("quantization_config")) {
    throw std::invalid_argument("[train] init_from " + c.init_from +
                                " is a quantized model; training starts from float weights");
  }
  for (auto& [k, v] : c.model.items()) m[k] = v;
  // Fields the run sets itself from its tokenizer and save_dtype.
  for (const char* k : {"vocab_size", "bos_token_id", "eos_token_id", "torch_dtype"}) m.erase(k);
  return m;
}

ojson model_config(const TrainConfig& c, const text::tokenizer::LoadedTokenizer& tok) {
  ojson m = base_model_config(c);
  m["vocab_size"] = tok.tokenizer->id_limit();
  if (tok.bos && tok.bos->id) m["bos_token_id"] = *tok.bos->id;
  ojson eos = ojson::array();
  for (int32_t id : tok.eos_ids) eos.push_back(id);
  if (auto id = tok.tokenizer->token_to_id(kEndOfText); id && std::find(eos.begin(), eos.end(), *id) == eos.end()) {
    eos.push_back(*id);
  }
  if (!eos.empty()) m["eos_token_id"] = eos.size() == 1 ? eos[0] : eos;
  if (!m.contains("max_position_embeddings")) m["max_position_embeddings"] = c.seq_len;
  if (!m.contains("architectures") && m.value("model_type", "") == "llama") m["architectures"] = {"LlamaForCausalLM"};
  m["torch_dtype"] = c.save_dtype;
  return m;
}

void init_weights(Model& model, const TrainConfig& c) {
  array key = random::key(c.seed);
  std::map<std::string, array> init;
  for (auto& [name, p] : model.parameters()) {
    if (name.find("norm") != std::string::npos) {
      init.emplace(name, ones(p.shape(), float32));
    } else if (name.ends_with(".bias")) {
      init.emplace(name, zeros(p.shape(), float32));
    } else {
      auto ks = random::split(key);
      key = ks.first;
      init.emplace(name, random::normal(p.shape(), float32, 0.0f, c.init_std, ks.second));
    }
  }
  std::vector<array> todo;
  for (auto& [k, v] : init) todo.push_back(v);
  eval(todo);
  model.load_weights(init);
}

// init_from's weights, as float32, into the model (strict: every parameter,
// same shapes).
void load_initial_weights(Model& model, const TrainConfig& c) {
  LoadOptions opts;
  opts.dtype = float32;
  auto src = load_model(c.init_from, opts);
  std::map<std::string, array> weights;
  for (auto& [k, v] : src.model->parameters()) weights.emplace(k, astype(v, float32));
  try {
    model.load_weights(weights);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("[train] init_from " + c.init_from +
                                " does not fit the model to train (its tokenizer and shape must match): " + e.what());
  }
}

}  // namespace

const std::string& default_chat_template() {
  static const std::string t =
      "{{- bos_token }}{%- for message in messages %}"
      "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + "
      "'<|eot_id|>' }}{%- endfor %}"
      "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}";
  return t;
}

RunSetup prepare_run(const TrainConfig& c, const fs::path& out, const ojson& config_json,
                     const std::function<void(const std::string&)>& log) {
  RunSetup run;
  run.resume = check_output(out, config_json);
  write_json_file(out / "train_config.json", config_json);

  std::vector<Document> train_docs = read_all(c.train_files), valid_docs;
  if (!c.valid_files.empty()) {
    valid_docs = read_all(c.valid_files);
  } else {
    // A seeded hold-out: the same split on every resume.
    std::vector<size_t> order(train_docs.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::mt19937_64 rng(c.seed ^ 0x5851F42D4C957F2Dull);
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
    size_t n_valid = std::max<size_t>(1, size_t(double(train_docs.size()) * c.valid_fraction));
    if (c.valid_fraction == 0 || n_valid >= train_docs.size()) {
      throw std::invalid_argument("[train] no validation data: give 'valid' files or a 'valid_fraction' that leaves "
                                  "training documents (" + std::to_string(train_docs.size()) + " documents)");
    }
    std::vector<bool> is_valid(train_docs.size(), false);
    for (size_t i = 0; i < n_valid; ++i) is_valid[order[i]] = true;
    std::vector<Document> kept;
    for (size_t i = 0; i < train_docs.size(); ++i) (is_valid[i] ? valid_docs : kept).push_back(std::move(train_docs[i]));
    train_docs = std::move(kept);
  }

  if (!fs::exists(out / "tokenizer.json")) {
    if (!c.tokenizer.empty()) {
      copy_tokenizer(c.tokenizer, out);
    } else if (!c.init_from.empty()) {
      copy_tokenizer(c.init_from, out);
    } else {
      train_tokenizer(c, train_docs, out, log);
    }
  }
  run.tokenizer = text::tokenizer::load_tokenizer(out);
  const auto& tok = run.tokenizer;

  TokenizeOptions topt;
  std::unique_ptr<text::ChatTemplate> tmpl;
  if (const auto* src = tok.chat_template()) {
    tmpl = std::make_unique<text::ChatTemplate>(src->source);
    topt.chat_template = tmpl.get();
  }
  topt.template_extra = tok.template_variables();
  if (tok.bos && tok.bos->id) topt.bos_id = *tok.bos->id;
  if (auto id = tok.tokenizer->token_to_id(kEndOfText)) {
    topt.eos_id = *id;
  } else if (tok.eos && tok.eos->id) {
    topt.eos_id = *tok.eos->id;
  }
  topt.mask_prompt = c.mask_prompt;
  auto train_ex = tokenize_all(train_docs, *tok.tokenizer, topt);
  auto valid_ex = tokenize_all(valid_docs, *tok.tokenizer, topt);
  run.train_data = std::make_unique<PackedDataset>(std::move(train_ex), c.seq_len, c.batch_size, c.seed, true);
  // Validation batches: one epoch in file order (a short set may fill fewer
  // rows than batch_size: evaluate it in batches of one row then).
  int64_t valid_tokens = 0;
  for (auto& e : valid_ex) valid_tokens += int64_t(e.ids.size());
  int valid_batch = valid_tokens > int64_t(c.batch_size) * c.seq_len ? c.batch_size : 1;
  run.valid_data = std::make_unique<PackedDataset>(std::move(valid_ex), c.seq_len, valid_batch, c.seed, false);
  log("data: " + std::to_string(run.train_data->num_examples()) + " training documents (" +
      std::to_string(run.train_data->total_tokens()) + " tokens, " +
      std::to_string(run.train_data->batches_per_epoch()) + " batches per epoch), " +
      std::to_string(run.valid_data->num_examples()) + " validation documents (" +
      std::to_string(run.valid_data->total_tokens()) + " tokens)");

  run.model_config = model_config(c, tok);
  run.model = create_model(json::parse(run.model_config.dump()));
  if (!run.resume) {
    if (c.init_from.empty()) {
      init_weights(*run.model, c);
    } else {
      load_initial_weights(*run.model, c);
      log("model: weights from " + c.init_from);
    }
  }
  log("model: " + run.model_config.value("model_type", std::string("?")) + ", " +
      std::to_string(run.model->num_parameters()) + " parameters");
  return run;
}

void write_final_model(const TrainConfig& c, const fs::path& out, Model& model, const RunSetup& run) {
  Dtype d = dtype_from_string(c.save_dtype);
  std::map<std::string, array> weights;
  for (auto& [k, v] : model.parameters()) weights.emplace(k, astype(v, d));
  save_safetensors((out / "model.safetensors").string(), weights, {{"format", "pt"}});
  write_json_file(out / "config.json", run.model_config);
  ojson gen = {{"do_sample", false}};
  if (run.model_config.contains("bos_token_id")) gen["bos_token_id"] = run.model_config["bos_token_id"];
  if (run.model_config.contains("eos_token_id")) gen["eos_token_id"] = run.model_config["eos_token_id"];
  write_json_file(out / "generation_config.json", gen);
}

}  // namespace uma::lm::train
