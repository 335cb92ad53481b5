#include "uma/text/tokenizer/trie.h"

#include <algorithm>
#include <iterator>

namespace uma::text::tokenizer {

void PatternTrie::clear() {
  edges_ = PairMap();
  values_.assign(1, -1);
  std::fill(std::begin(first_), std::end(first_), false);
}

void PatternTrie::insert(std::string_view pattern, int32_t value) {
  if (pattern.empty()) return;
  first_[static_cast<unsigned char>(pattern[0])] = true;
  int32_t node = 0;
  for (unsigned char b : pattern) {
    const auto* child = edges_.find(node, b);
    if (child) {
      node = child->id;
    } else {
      int32_t n = static_cast<int32_t>(values_.size());
      values_.push_back(-1);
      edges_.insert(node, b, {0, n});
      node = n;
    }
  }
  values_[node] = value;
}

bool PatternTrie::find(std::string_view text, size_t from, size_t* begin, size_t* end,
                       int32_t* value) const {
  if (empty()) return false;
  for (size_t s = from; s < text.size(); ++s) {
    if (!first_[static_cast<unsigned char>(text[s])]) continue;
    int32_t node = 0, best = -1;
    size_t best_end = 0;
    for (size_t k = s; k < text.size(); ++k) {
      const auto* child = edges_.find(node, static_cast<unsigned char>(text[k]));
      if (!child) break;
      node = child->id;
      if (values_[node] >= 0) {
        best = values_[node];
        best_end = k + 1;
      }
    }
    if (best >= 0) {
      *begin = s;
      *end = best_end;
      *value = best;
      return true;
    }
  }
  return false;
}

}  // namespace uma::text::tokenizer
