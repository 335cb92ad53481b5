#include "uma/text/tokenizer/streaming.h"

#include "uma/text/tokenizer/tokenizer.h"

namespace uma::text::tokenizer {

namespace {
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

bool ends_with_replacement(const std::string& s) {
  return s.size() >= 3 && std::string_view(s).substr(s.size() - 3) == kReplacement;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}
}  // namespace

StreamingDetokenizer::StreamingDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(&tokenizer), skip_special_(skip_special_tokens) {}

std::string StreamingDetokenizer::decode(const std::vector<int32_t>& ids) const {
  return tokenizer_->decode(ids, skip_special_);
}

void StreamingDetokenizer::reset() {
  window_.clear();
  prefix_.clear();
  prefix_index_ = 0;
  all_ids_.clear();
  emitted_.clear();
}

std::string StreamingDetokenizer::add(int32_t id) {
  all_ids_.push_back(id);
  window_.push_back(id);
  std::string s = decode(window_);
  if (s.size() <= prefix_.size() || ends_with_replacement(s)) return "";
  std::string out;
  if (starts_with(s, prefix_)) {
    out = s.substr(prefix_.size());
    // The ids decoded so far become the context of the next step; older
    // context is no longer needed.
    size_t new_prefix_index = window_.size() - prefix_index_;
    window_.erase(window_.begin(), window_.begin() + static_cast<std::ptrdiff_t>(prefix_index_));
    prefix_ = decode(window_);
    prefix_index_ = new_prefix_index;
  } else {
    // A decoder whose output depends on more than its neighbours: recover
    // from the whole sequence, restarting the window after it.
    std::string full = decode(all_ids_);
    if (!starts_with(full, emitted_) || full.size() == emitted_.size()) return "";
    out = full.substr(emitted_.size());
    window_.assign(1, id);
    prefix_ = decode(window_);
    prefix_index_ = 1;
  }
  emitted_ += out;
  return out;
}

std::string StreamingDetokenizer::finish() {
  std::string out;
  std::string s = decode(window_);
  if (s.size() > prefix_.size() && starts_with(s, prefix_)) {
    out = s.substr(prefix_.size());
  } else if (!starts_with(s, prefix_)) {
    std::string full = decode(all_ids_);
    if (starts_with(full, emitted_)) out = full.substr(emitted_.size());
  }
  reset();
  return out;
}

}  // namespace uma::text::tokenizer
