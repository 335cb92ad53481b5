#include "uma/lm/train/data.h"

#include <algorithm>
#include <fstream>
#include <numeric>
#include <random>
#include <stdexcept>

namespace uma::lm::train {

namespace {

using ojson = nlohmann::ordered_json;

std::string where(const std::string& path, size_t line) { return path + ":" + std::to_string(line); }

std::string string_field(const ojson& j, const char* key, const std::string& at) {
  if (!j[key].is_string()) throw std::invalid_argument("[train] " + at + ": \"" + key + "\" must be a string");
  return j[key].get<std::string>();
}

Document parse_line(const std::string& line, const std::string& at) {
  ojson j;
  try {
    j = ojson::parse(line);
  } catch (const std::exception& e) {
    throw std::invalid_argument("[train] " + at + ": not JSON (" + e.what() + ")");
  }
  if (!j.is_object()) throw std::invalid_argument("[train] " + at + ": each line must be a JSON object");
  Document d;
  if (j.contains("messages")) {
    const auto& m = j["messages"];
    if (!m.is_array() || m.empty()) throw std::invalid_argument("[train] " + at + ": \"messages\" must be a non-empty list");
    for (const auto& msg : m) {
      if (!msg.is_object() || !msg.contains("role") || !msg["role"].is_string() || !msg.contains("content") ||
          !msg["content"].is_string()) {
        throw std::invalid_argument("[train] " + at + ": every message needs string \"role\" and \"content\"");
      }
    }
    d.messages = m;
  } else if (j.contains("prompt") || j.contains("completion")) {
    d.messages = ojson::array({{{"role", "user"}, {"content", string_field(j, "prompt", at)}},
                               {{"role", "assistant"}, {"content", string_field(j, "completion", at)}}});
  } else if (j.contains("text")) {
    d.text = string_field(j, "text", at);
  } else {
    throw std::invalid_argument("[train] " + at + ": expected \"text\", \"messages\" or \"prompt\"/\"completion\"");
  }
  return d;
}

}  // namespace

std::vector<Document> read_documents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument("[train] cannot open data file '" + path + "'");
  std::vector<Document> docs;
  std::string line;
  size_t n = 0;
  if (path.ends_with(".jsonl")) {
    while (std::getline(in, line)) {
      ++n;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      docs.push_back(parse_line(line, where(path, n)));
    }
  } else if (path.ends_with(".txt")) {
    std::string doc;
    auto flush = [&] {
      if (!doc.empty()) docs.push_back(Document{doc, nullptr});
      doc.clear();
    };
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) {
        flush();
      } else {
        doc += doc.empty() ? line : "\n" + line;
      }
    }
    flush();
  } else {
    throw std::invalid_argument("[train] data file '" + path + "' must end in .jsonl or .txt");
  }
  if (in.bad()) throw std::invalid_argument("[train] error reading '" + path + "'");
  if (docs.empty()) throw std::invalid_argument("[train] data file '" + path + "' holds no documents");
  return docs;
}

void document_texts(const Document& d, std::vector<std::string>& out) {
  if (!d.is_chat()) {
    out.push_back(d.text);
    return;
  }
  for (const auto& m : d.messages) {
    out.push_back(m["role"].get<std::string>());
    out.push_back(m["content"].get<std::string>());
  }
}

Example tokenize_document(const Document& d, const text::tokenizer::Tokenizer& tok, const TokenizeOptions& o) {
  Example ex;
  if (!d.is_chat()) {
    if (o.bos_id >= 0) ex.ids.push_back(o.bos_id);
    text::tokenizer::EncodeOptions enc{.add_special_tokens = false, .parse_special_tokens = false};
    tok.encode(d.text, ex.ids, enc);
    if (o.eos_id >= 0) ex.ids.push_back(o.eos_id);
    ex.mask.assign(ex.ids.size(), 1);
    if (!ex.mask.empty() && o.bos_id >= 0) ex.mask[0] = 0;  // nothing predicts the first token
    return ex;
  }
  if (!o.chat_template) throw std::invalid_argument("[train] chat data needs a chat template");
  // The rendered conversation; with mask_prompt, the answer's tokens are
  // those past the rendering of the messages before it with a generation prompt.
  std::string full = o.chat_template->apply(d.messages, nullptr, false, o.template_extra);
  text::tokenizer::EncodeOptions enc{.add_special_tokens = false, .parse_special_tokens = true};
  tok.encode(full, ex.ids, enc);
  ex.mask.assign(ex.ids.size(), 1);
  if (o.mask_prompt && d.messages.size() > 1) {
    ojson head = ojson::array();
    for (size_t i = 0; i + 1 < d.messages.size(); ++i) head.push_back(d.messages[i]);
    std::string prompt = o.chat_template->apply(head, nullptr, true, o.template_extra);
    if (full.compare(0, prompt.size(), prompt) != 0) {
      throw std::invalid_argument("[train] the chat template renders the prompt differently from the start of "
                                  "the whole conversation; cannot mask the prompt (set mask_prompt: false)");
    }
    std::vector<int32_t> pids;
    tok.encode(prompt, pids, enc);
    size_t n = std::min(pids.size(), ex.ids.size());
    while (n > 0 && !std::equal(pids.begin(), pids.begin() + long(n), ex.ids.begin())) --n;
    std::fill(ex.mask.begin(), ex.mask.begin() + long(n), uint8_t(0));
  } else if (!ex.mask.empty()) {
    ex.mask[0] = 0;
  }
  return ex;
}

PackedDataset::PackedDataset(std::vector<Example> examples, int seq_len, int batch_size, uint64_t seed, bool shuffle)
    : examples_(std::move(examples)), seq_len_(seq_len), batch_size_(batch_size), seed_(seed), shuffle_(shuffle) {
  if (seq_len < 1 || batch_size < 1) throw std::invalid_argument("[train] seq_len and batch_size must be >= 1");
  for (const auto& e : examples_) total_tokens_ += int64_t(e.ids.size());
  int64_t windows = total_tokens_ > 1 ? (total_tokens_ - 1) / seq_len : 0;
  batches_per_epoch_ = windows / batch_size;
  if (batches_per_epoch_ == 0) {
    throw std::invalid_argument("[train] " + std::to_string(total_tokens_) + " tokens cannot fill one batch of " +
                                std::to_string(batch_size) + " x " + std::to_string(seq_len) +
                                " (lower batch_size or seq_len)");
  }
}

void PackedDataset::pack_epoch(int64_t epoch) {
  std::vector<size_t> order(examples_.size());
  std::iota(order.begin(), order.end(), size_t(0));
  if (shuffle_) {
    std::mt19937_64 rng(seed_ * 0x9E3779B97F4A7C15ull + uint64_t(epoch));
    // Fisher-Yates with our own draws: std::shuffle's use of the engine is
    // not specified, and a run must resume identically on any library.
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  }
  stream_.clear();
  stream_mask_.clear();
  stream_.reserve(size_t(total_tokens_));
  stream_mask_.reserve(size_t(total_tokens_));
  for (size_t i : order) {
    stream_.insert(stream_.end(), examples_[i].ids.begin(), examples_[i].ids.end());
    stream_mask_.insert(stream_mask_.end(), examples_[i].mask.begin(), examples_[i].mask.end());
  }
  packed_epoch_ = epoch;
}

PackedDataset::Batch PackedDataset::batch(int64_t step) {
  int64_t epoch = step / batches_per_epoch_, index = step % batches_per_epoch_;
  if (epoch != packed_epoch_) pack_epoch(epoch);
  const size_t B = size_t(batch_size_), T = size_t(seq_len_);
  std::vector<int32_t> in(B * T), tg(B * T);
  std::vector<float> m(B * T);
  Batch b;
  for (size_t r = 0; r < B; ++r) {
    size_t start = (size_t(index) * B + r) * T;
    for (size_t t = 0; t < T; ++t) {
      in[r * T + t] = stream_[start + t];
      tg[r * T + t] = stream_[start + t + 1];
      m[r * T + t] = stream_mask_[start + t + 1];
      b.tokens += stream_mask_[start + t + 1];
    }
  }
  Shape shape{int(B), int(T)};
  b.inputs = array(in, shape);
  b.targets = array(tg, shape);
  b.mask = array(m, shape);
  return b;
}

}  // namespace uma::lm::train
