#include "uma/text/tokenizer/bpe_trainer.h"

#include <algorithm>
#include <queue>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include "uma/text/tokenizer/gguf_tokenizer.h"
#include "uma/text/tokenizer/pre_tokenizer.h"
#include "uma/text/tokenizer/unicode.h"

namespace uma::text::tokenizer {

namespace {

using json = nlohmann::ordered_json;

uint64_t pair_key(int32_t a, int32_t b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }
int32_t pair_left(uint64_t k) { return int32_t(k >> 32); }
int32_t pair_right(uint64_t k) { return int32_t(k & 0xffffffffu); }

json pre_tokenizer_json(const std::string& regex) {
  return {{"type", "Sequence"},
          {"pretokenizers",
           json::array({json{{"type", "Split"},
                             {"pattern", {{"Regex", regex}}},
                             {"behavior", "Isolated"},
                             {"invert", false}},
                        json{{"type", "ByteLevel"},
                             {"add_prefix_space", false},
                             {"trim_offsets", true},
                             {"use_regex", false}}})}};
}

struct Word {
  std::vector<int32_t> syms;
  uint64_t count = 0;
};

// Candidates by count, then by the smaller pair: a deterministic order.
struct Candidate {
  int64_t count;
  uint64_t key;
  bool operator<(const Candidate& o) const { return count != o.count ? count < o.count : key > o.key; }
};

}  // namespace

struct BpeTrainer::Impl {
  BpeTrainOptions opt;
  std::string regex;
  PreTokenizerPtr pre;
  PreTokenized pt;
  std::unordered_map<std::string, uint64_t> word_counts;
  bool finished = false;

  // Merge state: tokens as byte strings (ids 0..255 are the bytes).
  std::vector<std::string> tokens;
  std::vector<Word> words;
  std::unordered_map<uint64_t, int64_t> pair_counts;
  std::unordered_map<uint64_t, std::vector<uint32_t>> where;
  std::priority_queue<Candidate> heap;

  bool mergeable(int32_t a, int32_t b) const {
    return opt.max_token_bytes == 0 || tokens[size_t(a)].size() + tokens[size_t(b)].size() <= opt.max_token_bytes;
  }

  // Adds (sign +1) or removes (-1) a word's pairs; `touched` collects them.
  void count_pairs(uint32_t w, int sign, std::set<uint64_t>* touched, int32_t index_only_with) {
    const Word& word = words[w];
    for (size_t i = 0; i + 1 < word.syms.size(); ++i) {
      int32_t a = word.syms[i], b = word.syms[i + 1];
      if (!mergeable(a, b)) continue;
      uint64_t k = pair_key(a, b);
      pair_counts[k] += sign * int64_t(word.count);
      if (touched) touched->insert(k);
      if (sign > 0 && (index_only_with < 0 || a == index_only_with || b == index_only_with)) where[k].push_back(w);
    }
  }

  void build_words() {
    const auto& table = unicode::byte_level_table();
    words.reserve(word_counts.size());
    for (auto& [text, count] : word_counts) {
      Word w;
      w.count = count;
      // Byte-level text: each code point (< 324, so 1 or 2 UTF-8 bytes) is one byte.
      for (size_t i = 0; i < text.size();) {
        uint32_t cp;
        auto c = uint8_t(text[i]);
        if (c < 0x80) {
          cp = c;
          i += 1;
        } else {
          cp = (uint32_t(c & 0x1f) << 6) | (uint8_t(text[i + 1]) & 0x3f);
          i += 2;
        }
        w.syms.push_back(table.cp_to_byte[cp]);
      }
      words.push_back(std::move(w));
    }
    word_counts.clear();
    // A fixed order, so the run does not depend on the hash map's.
    std::sort(words.begin(), words.end(), [](const Word& a, const Word& b) { return a.syms < b.syms; });
    for (uint32_t w = 0; w < words.size(); ++w) count_pairs(w, +1, nullptr, -1);
    for (auto& [k, c] : pair_counts) heap.push({c, k});
  }

  // Replaces every (a, b) in the words that hold it by `merged`.
  void apply_merge(uint64_t key, int32_t merged) {
    const int32_t a = pair_left(key), b = pair_right(key);
    std::vector<uint32_t> list = std::move(where[key]);
    where.erase(key);
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
    std::set<uint64_t> touched;
    for (uint32_t w : list) {
      auto& syms = words[w].syms;
      bool holds = false;
      for (size_t i = 0; i + 1 < syms.size() && !holds; ++i) holds = syms[i] == a && syms[i + 1] == b;
      if (!holds) continue;
      count_pairs(w, -1, &touched, -1);
      size_t out = 0;
      for (size_t i = 0; i < syms.size(); ++out) {
        if (i + 1 < syms.size() && syms[i] == a && syms[i + 1] == b) {
          syms[out] = merged;
          i += 2;
        } else {
          syms[out] = syms[i++];
        }
      }
      syms.resize(out);
      count_pairs(w, +1, &touched, merged);
    }
    pair_counts.erase(key);
    for (uint64_t k : touched) {
      auto it = pair_counts.find(k);
      if (it == pair_counts.end()) continue;
      if (it->second <= 0) {
        pair_counts.erase(it);
        where.erase(k);
      } else {
        heap.push({it->second, k});
      }
    }
  }
};

BpeTrainer::BpeTrainer(BpeTrainOptions options) : impl_(std::make_unique<Impl>()) {
  auto& o = impl_->opt;
  o = std::move(options);
  if (o.vocab_size < o.special_tokens.size() + 256) {
    throw std::invalid_argument("[train_bpe] vocab_size " + std::to_string(o.vocab_size) + " cannot hold " +
                                std::to_string(o.special_tokens.size()) + " special tokens and 256 byte symbols");
  }
  std::set<std::string> seen;
  for (auto& t : o.special_tokens) {
    if (t.empty()) throw std::invalid_argument("[train_bpe] empty special token");
    if (!seen.insert(t).second) throw std::invalid_argument("[train_bpe] special token '" + t + "' given twice");
  }
  if (!o.bos_token.empty() && !seen.count(o.bos_token)) {
    throw std::invalid_argument("[train_bpe] bos_token '" + o.bos_token + "' is not one of the special tokens");
  }
  impl_->regex = o.split_regex.empty() ? llama3_split_regex() : o.split_regex;
  impl_->pre = make_pre_tokenizer(pre_tokenizer_json(impl_->regex));
}

BpeTrainer::~BpeTrainer() = default;
BpeTrainer::BpeTrainer(BpeTrainer&&) noexcept = default;
BpeTrainer& BpeTrainer::operator=(BpeTrainer&&) noexcept = default;

void BpeTrainer::feed(std::string_view text) {
  auto& im = *impl_;
  if (im.finished) throw std::logic_error("[train_bpe] feed after finish");
  if (text.empty()) return;
  im.pt.clear();
  im.pt.text.assign(text);
  im.pt.pieces.push_back(Piece{0, uint32_t(text.size()), -1, true});
  im.pre->pre_tokenize(im.pt);
  for (const Piece& p : im.pt.pieces) {
    if (p.token >= 0 || p.end == p.begin) continue;
    ++im.word_counts[std::string(im.pt.view(p))];
  }
}

size_t BpeTrainer::distinct_words() const { return impl_->finished ? impl_->words.size() : impl_->word_counts.size(); }

json BpeTrainer::finish() {
  auto& im = *impl_;
  if (im.finished) throw std::logic_error("[train_bpe] finish called twice");
  im.finished = true;
  for (int b = 0; b < 256; ++b) im.tokens.push_back(std::string(1, char(b)));
  im.build_words();

  const size_t specials = im.opt.special_tokens.size();
  std::vector<uint64_t> merges;
  while (specials + im.tokens.size() < im.opt.vocab_size && !im.heap.empty()) {
    Candidate top = im.heap.top();
    im.heap.pop();
    auto it = im.pair_counts.find(top.key);
    if (it == im.pair_counts.end() || it->second != top.count) continue;  // stale entry
    if (uint64_t(top.count) < im.opt.min_frequency) break;
    auto merged = int32_t(im.tokens.size());
    im.tokens.push_back(im.tokens[size_t(pair_left(top.key))] + im.tokens[size_t(pair_right(top.key))]);
    merges.push_back(top.key);
    im.apply_merge(top.key, merged);
  }

  const auto& table = unicode::byte_level_table();
  auto byte_level = [&](const std::string& bytes) {
    std::string s;
    for (char c : bytes) s.append(table.utf8[uint8_t(c)].data(), table.utf8_len[uint8_t(c)]);
    return s;
  };
  json vocab = json::object();
  json added = json::array();
  for (size_t i = 0; i < specials; ++i) {
    vocab[im.opt.special_tokens[i]] = i;
    added.push_back({{"id", i},
                     {"content", im.opt.special_tokens[i]},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  }
  for (size_t t = 0; t < im.tokens.size(); ++t) vocab[byte_level(im.tokens[t])] = specials + t;
  json merge_list = json::array();
  for (uint64_t k : merges) {
    merge_list.push_back(byte_level(im.tokens[size_t(pair_left(k))]) + " " +
                         byte_level(im.tokens[size_t(pair_right(k))]));
  }

  json post = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", false}, {"use_regex", true}};
  if (!im.opt.bos_token.empty()) {
    const std::string& bos = im.opt.bos_token;
    size_t bos_id = size_t(std::find(im.opt.special_tokens.begin(), im.opt.special_tokens.end(), bos) -
                           im.opt.special_tokens.begin());
    json special = {{"SpecialToken", {{"id", bos}, {"type_id", 0}}}};
    post = {{"type", "TemplateProcessing"},
            {"single", json::array({special, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
            {"pair", json::array({special,
                                  {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                                  {{"SpecialToken", {{"id", bos}, {"type_id", 1}}}},
                                  {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}})},
            {"special_tokens", {{bos, {{"id", bos}, {"ids", {bos_id}}, {"tokens", {bos}}}}}}};
  }

  json out;
  out["version"] = "1.0";
  out["truncation"] = nullptr;
  out["padding"] = nullptr;
  out["added_tokens"] = std::move(added);
  out["normalizer"] = nullptr;
  out["pre_tokenizer"] = pre_tokenizer_json(im.regex);
  out["post_processor"] = std::move(post);
  out["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
  out["model"] = {{"type", "BPE"},
                  {"dropout", nullptr},
                  {"unk_token", nullptr},
                  {"continuing_subword_prefix", nullptr},
                  {"end_of_word_suffix", nullptr},
                  {"fuse_unk", false},
                  {"byte_fallback", false},
                  {"ignore_merges", true},
                  {"vocab", std::move(vocab)},
                  {"merges", std::move(merge_list)}};
  im.words.clear();
  im.pair_counts.clear();
  im.where.clear();
  return out;
}

}  // namespace uma::text::tokenizer
