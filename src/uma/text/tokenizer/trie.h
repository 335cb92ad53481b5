// Byte trie over many patterns, for added-token matching (leftmost-longest)
// and Unigram lattices (every vocabulary prefix at a position).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "uma/text/tokenizer/vocab.h"

namespace uma::text::tokenizer {

class PatternTrie {
 public:
  void clear();
  // Maps `pattern` (non-empty) to `value` >= 0; a later insert overwrites.
  void insert(std::string_view pattern, int32_t value);
  bool empty() const { return values_.size() <= 1; }

  // First match at or after `from`: leftmost start, longest there.
  bool find(std::string_view text, size_t from, size_t* begin, size_t* end, int32_t* value) const;

  // Calls f(end, value) for every pattern that starts at text[from], shortest first.
  template <class F>
  void for_each_prefix(std::string_view text, size_t from, F&& f) const {
    int32_t node = 0;
    for (size_t k = from; k < text.size(); ++k) {
      const auto* child = edges_.find(node, static_cast<unsigned char>(text[k]));
      if (!child) return;
      node = child->id;
      if (values_[node] >= 0) f(k + 1, values_[node]);
    }
  }

 private:
  PairMap edges_;                    // (node, byte) -> child node in Value::id
  std::vector<int32_t> values_{-1};  // per node, -1 when no pattern ends there
  bool first_[256] = {};
};

}  // namespace uma::text::tokenizer
