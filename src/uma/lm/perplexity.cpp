#include "uma/lm/perplexity.h"

#include <cmath>
#include <filesystem>
#include <random>

#include "uma/core/ops.h"
#include "uma/lm/train/data.h"
#include "uma/nn/losses.h"

namespace uma::lm {

PerplexityData perplexity_data(const Loaded& lm, const std::string& path, int sequence_length, int num_samples,
                               uint64_t seed, bool mask_prompt) {
  if (sequence_length < 2) throw std::invalid_argument("[perplexity] --sequence-length must be >= 2");
  if (num_samples == 0 || num_samples < -1) throw std::invalid_argument("[perplexity] --num-samples must be > 0 or -1");
  std::string file = path;
  if (std::filesystem::is_directory(path)) file = (std::filesystem::path(path) / "train.jsonl").string();
  auto docs = train::read_documents(file);

  train::TokenizeOptions opt;
  std::unique_ptr<text::ChatTemplate> tmpl;
  if (lm.chat_template) opt.chat_template = lm.chat_template.get();
  opt.template_extra = lm.tokenizer.template_variables();
  if (lm.tokenizer.add_bos_token && lm.tokenizer.bos && lm.tokenizer.bos->id) opt.bos_id = *lm.tokenizer.bos->id;
  if (lm.tokenizer.eos && lm.tokenizer.eos->id) opt.eos_id = *lm.tokenizer.eos->id;
  opt.mask_prompt = mask_prompt;

  std::vector<size_t> order(docs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::mt19937_64 rng(seed);
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);

  const size_t want = num_samples > 0 ? size_t(num_samples) * size_t(sequence_length) : SIZE_MAX;
  std::vector<int32_t> tokens;
  std::vector<uint8_t> scored;
  PerplexityData out;
  for (size_t i : order) {
    if (tokens.size() >= want) break;
    if (docs[i].is_chat() && !opt.chat_template) {
      throw std::invalid_argument("[perplexity] " + file + " holds chats and the model has no chat template");
    }
    auto ex = train::tokenize_document(docs[i], *lm.tokenizer.tokenizer, opt);
    tokens.insert(tokens.end(), ex.ids.begin(), ex.ids.end());
    scored.insert(scored.end(), ex.mask.begin(), ex.mask.end());
    ++out.documents_used;
  }
  size_t rows = tokens.size() / size_t(sequence_length);
  if (num_samples > 0) rows = std::min(rows, size_t(num_samples));
  if (rows == 0) {
    throw std::invalid_argument("[perplexity] " + file + " holds " + std::to_string(tokens.size()) +
                                " tokens, fewer than one sequence of " + std::to_string(sequence_length));
  }
  tokens.resize(rows * size_t(sequence_length));
  out.sequences = array(tokens, Shape{int(rows), sequence_length});
  if (mask_prompt) {
    scored.resize(tokens.size());
    out.scored = array(scored.data(), Shape{int(rows), sequence_length}, uint8);
  }
  return out;
}

PerplexityResult perplexity(Model& model, const array& sequences, int batch_size, const array* scored) {
  if (batch_size < 1) throw std::invalid_argument("[perplexity] --batch-size must be >= 1");
  const int n = sequences.shape(0), len = sequences.shape(1);
  // Running sums in double: mean and variance (ddof = 1) of every token's loss.
  double sum = 0, sum_sq = 0;
  int64_t count = 0;
  for (int s = 0; s < n; s += batch_size) {
    int e = std::min(n, s + batch_size);
    array batch = slice(sequences, {s, 0}, {e, len});
    array inputs = slice(batch, {0, 0}, {e - s, len - 1});
    array targets = slice(batch, {0, 1}, {e - s, len});
    array logits = astype(model(inputs, nullptr), float32);
    array losses = contiguous(flatten(astype(nn::cross_entropy(logits, targets), float32)));
    array keep = scored ? contiguous(flatten(slice(*scored, {s, 1}, {e, len}))) : array(0);
    eval(losses, keep);
    const float* p = losses.data<float>();
    const uint8_t* k = scored ? keep.data<uint8_t>() : nullptr;
    for (size_t i = 0; i < losses.size(); ++i) {
      if (k && !k[i]) continue;
      sum += p[i];
      sum_sq += double(p[i]) * p[i];
      ++count;
    }
  }
  if (count == 0) throw std::invalid_argument("[perplexity] no token of the sequences is scored (only prompts?)");
  PerplexityResult r;
  r.tokens = count;
  r.mean_loss = sum / double(count);
  r.perplexity = std::exp(r.mean_loss);
  double var = count > 1 ? (sum_sq - sum * sum / double(count)) / double(count - 1) : 0.0;
  r.standard_error = r.perplexity * std::sqrt(std::max(var, 0.0)) / std::sqrt(double(count));
  return r;
}

}  // namespace uma::lm
