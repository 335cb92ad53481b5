#include "uma/lm/grammar.h"

#include <cmath>
#include <map>
#include <mutex>
#include <stdexcept>

#include "uma/core/ops.h"

namespace uma::lm {

namespace {
struct CachedTrie {
  std::weak_ptr<const text::tokenizer::Tokenizer> tokenizer;
  std::vector<int> eos;
  std::shared_ptr<const text::grammar::TokenTrie> trie;
};
}  // namespace

std::shared_ptr<const text::grammar::TokenTrie> grammar_vocabulary(const text::tokenizer::LoadedTokenizer& tok,
                                                                   const std::vector<int>& eos_ids) {
  // Building the trie of a 128k vocabulary takes ~0.1 s: once per tokenizer,
  // not per request. A dead tokenizer's entry is replaced, never reused.
  static std::mutex mu;
  static std::map<const text::tokenizer::Tokenizer*, CachedTrie> cache;
  if (!tok.tokenizer) throw std::invalid_argument("[grammar] the tokenizer is missing");
  std::lock_guard<std::mutex> lock(mu);
  for (auto it = cache.begin(); it != cache.end();) {
    it = it->second.tokenizer.expired() ? cache.erase(it) : std::next(it);
  }
  auto& slot = cache[tok.tokenizer.get()];
  if (!slot.trie || slot.eos != eos_ids) {
    std::vector<int32_t> eos(eos_ids.begin(), eos_ids.end());
    slot = {tok.tokenizer, eos_ids,
            std::make_shared<text::grammar::TokenTrie>(text::grammar::token_vocab(*tok.tokenizer), eos)};
  }
  return slot.trie;
}

GrammarProcessor::GrammarProcessor(GrammarPtr grammar, std::shared_ptr<const text::grammar::TokenTrie> trie)
    : trie_(std::move(trie)), matcher_(std::move(grammar)), masker_(trie_) {}

void GrammarProcessor::accept_token(int token) {
  ++fed_;
  if (std::find(trie_->eos_ids().begin(), trie_->eos_ids().end(), token) != trie_->eos_ids().end()) return;
  if (token < 0 || token >= trie_->vocab_size() || trie_->bytes(token).empty() ||
      !matcher_.accept(trie_->bytes(token))) {
    throw std::runtime_error("[grammar] token " + std::to_string(token) + " does not continue the grammar");
  }
}

array GrammarProcessor::operator()(const std::vector<int>& history, const array& logits) {
  if (base_ < 0) base_ = long(history.size());
  for (long i = base_ + fed_; i < long(history.size()); ++i) accept_token(history[size_t(i)]);
  const auto& bits = masker_.allowed(matcher_);
  const int V = logits.shape(-1);
  // Inside a string the mask repeats token after token: reuse its array.
  if (mask_ && mask_->size() == size_t(V) && bits == last_bits_) return add(logits, astype(*mask_, logits.dtype()));
  row_.assign(size_t(V), -INFINITY);
  bool any = false;
  const size_t words = std::min(bits.size(), (size_t(std::min(V, trie_->vocab_size())) + 31) / 32);
  for (size_t w = 0; w < words; ++w) {
    for (uint32_t x = bits[w]; x; x &= x - 1) {
      size_t id = w * 32 + size_t(__builtin_ctz(x));
      if (id < size_t(V)) {
        row_[id] = 0.0f;
        any = true;
      }
    }
  }
  if (!any) {
    throw std::runtime_error("[grammar] no token of the vocabulary can continue the grammar here (after " +
                             std::to_string(fed_) + " generated tokens)");
  }
  last_bits_ = bits;
  mask_ = array(row_.data(), {V}, float32);  // copied: row_ is reused next step
  return add(logits, astype(*mask_, logits.dtype()));
}

LogitsProcessor as_logits_processor(std::shared_ptr<GrammarProcessor> p) {
  return [p](const std::vector<int>& history, const array& logits) { return (*p)(history, logits); };
}

GrammarPtr compile_grammar(const std::string& gbnf, const std::string& what) {
  try {
    return text::grammar::parse_gbnf(gbnf);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(what + ": " + e.what());
  }
}

}  // namespace uma::lm
