#include "uma/text/tokenizer/pre_tokenizer.h"

#include <algorithm>

#include "uma/text/tokenizer/json_util.h"
#include "uma/text/tokenizer/unicode.h"

namespace uma::text::tokenizer {

using json_util::json;

SplitBehavior parse_split_behavior(const std::string& name) {
  if (name == "Removed") return SplitBehavior::Removed;
  if (name == "Isolated") return SplitBehavior::Isolated;
  if (name == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (name == "Contiguous") return SplitBehavior::Contiguous;
  throw std::invalid_argument("[tokenizer] unknown split behavior '" + name + "'");
}

void apply_split_behavior(const std::vector<Span>& spans, SplitBehavior behavior,
                          std::vector<Span>& out) {
  switch (behavior) {
    case SplitBehavior::Isolated:
      out.insert(out.end(), spans.begin(), spans.end());
      break;
    case SplitBehavior::Removed:
      for (const Span& s : spans) {
        if (!s.is_match) out.push_back(s);
      }
      break;
    case SplitBehavior::Contiguous: {
      bool prev = false;
      for (const Span& s : spans) {
        if (s.is_match == prev && !out.empty()) {
          out.back().end = s.end;
        } else {
          out.push_back(s);
        }
        prev = s.is_match;
      }
      break;
    }
    case SplitBehavior::MergedWithPrevious: {
      bool prev = false;
      for (const Span& s : spans) {
        if (s.is_match && !prev && !out.empty()) {
          out.back().end = s.end;
        } else {
          out.push_back(s);
        }
        prev = s.is_match;
      }
      break;
    }
    case SplitBehavior::MergedWithNext: {
      size_t first = out.size();
      bool prev = false;
      for (size_t k = spans.size(); k-- > 0;) {
        const Span& s = spans[k];
        if (s.is_match && !prev && out.size() > first) {
          out.back().begin = s.begin;
        } else {
          out.push_back(s);
        }
        prev = s.is_match;
      }
      std::reverse(out.begin() + first, out.end());
      break;
    }
  }
}

namespace {

// Splits every text piece with find(view, spans), then keeps the sub-ranges
// selected by `behavior`; empty results are dropped.
template <class Find>
void split_pieces(PreTokenized& pt, SplitBehavior behavior, Find find) {
  thread_local std::vector<Span> kept;
  auto& out = pt.pieces_tmp;
  out.clear();
  for (const Piece& p : pt.pieces) {
    if (p.token >= 0) {
      out.push_back(p);
      continue;
    }
    pt.spans.clear();
    find(pt.view(p), pt.spans);
    kept.clear();
    apply_split_behavior(pt.spans, behavior, kept);
    for (const Span& s : kept) {
      if (s.end == s.begin) continue;
      out.push_back({static_cast<uint32_t>(p.begin + s.begin), static_cast<uint32_t>(p.begin + s.end),
                     -1, p.at_start && s.begin == 0});
    }
  }
  pt.pieces.swap(out);
}

// Rewrites every text piece with f(view, at_start, out_text).
template <class F>
void transform_pieces(PreTokenized& pt, F f) {
  auto& nt = pt.text_tmp;
  auto& out = pt.pieces_tmp;
  nt.clear();
  out.clear();
  for (const Piece& p : pt.pieces) {
    if (p.token >= 0) {
      out.push_back({0, 0, p.token, p.at_start});
      continue;
    }
    size_t b = nt.size();
    f(pt.view(p), p.at_start, nt);
    if (nt.size() == b) continue;
    out.push_back({static_cast<uint32_t>(b), static_cast<uint32_t>(nt.size()), -1, p.at_start});
  }
  pt.text.swap(nt);
  pt.pieces.swap(out);
}

// Each character for which pred(cp) holds is a match of its own.
template <class Pred>
void find_chars(std::string_view s, std::vector<Span>& spans, Pred pred) {
  if (s.empty()) {
    spans.push_back({0, 0, false});
    return;
  }
  size_t last = 0, i = 0;
  while (i < s.size()) {
    int len;
    uint32_t cp = unicode::decode(s, i, &len);
    if (pred(cp)) {
      if (last < i) spans.push_back({last, i, false});
      spans.push_back({i, i + len, true});
      last = i + len;
    }
    i += len;
  }
  if (last < s.size()) spans.push_back({last, s.size(), false});
}

void find_literal(std::string_view s, std::string_view lit, std::vector<Span>& spans) {
  if (s.empty()) {
    spans.push_back({0, 0, false});
    return;
  }
  size_t prev = 0, pos = s.find(lit);
  while (pos != std::string_view::npos) {
    if (pos > prev) spans.push_back({prev, pos, false});
    spans.push_back({pos, pos + lit.size(), true});
    prev = pos + lit.size();
    pos = s.find(lit, prev);
  }
  if (prev < s.size()) spans.push_back({prev, s.size(), false});
}

class SplitPreTokenizer : public PreTokenizer {
 public:
  SplitPreTokenizer(const std::string& pattern, bool is_regex, SplitBehavior behavior, bool invert)
      : behavior_(behavior), invert_(invert) {
    if (is_regex || pattern.empty()) {
      regex_ = std::make_unique<Regex>(is_regex ? pattern : Regex::escape(pattern));
    } else {
      literal_ = pattern;
    }
  }
  void pre_tokenize(PreTokenized& pt) const override {
    split_pieces(pt, behavior_, [this](std::string_view s, std::vector<Span>& spans) {
      size_t first = spans.size();
      if (regex_) {
        regex_->find_matches(s, spans);
      } else {
        find_literal(s, literal_, spans);
      }
      if (invert_) {
        for (size_t k = first; k < spans.size(); ++k) spans[k].is_match = !spans[k].is_match;
      }
    });
  }

 private:
  std::unique_ptr<Regex> regex_;
  std::string literal_;
  SplitBehavior behavior_;
  bool invert_;
};

const Regex& gpt2_regex() {
  static const Regex re(
      R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)");
  return re;
}

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space), use_regex_(use_regex) {}
  void pre_tokenize(PreTokenized& pt) const override {
    if (add_prefix_space_) {
      transform_pieces(pt, [](std::string_view s, bool, std::string& out) {
        if (s.empty() || s[0] != ' ') out.push_back(' ');
        out.append(s);
      });
    }
    if (use_regex_) {
      split_pieces(pt, SplitBehavior::Isolated, [](std::string_view s, std::vector<Span>& spans) {
        gpt2_regex().find_matches(s, spans);
      });
    }
    const auto& t = unicode::byte_level_table();
    transform_pieces(pt, [&t](std::string_view s, bool, std::string& out) {
      // Each byte becomes one or two bytes: write in place, then trim.
      size_t n = out.size();
      out.resize(n + 2 * s.size());
      char* w = out.data() + n;
      for (unsigned char b : s) {
        w[0] = t.utf8[b][0];
        w[1] = t.utf8[b][1];
        w += t.utf8_len[b];
      }
      out.resize(w - out.data());
    });
  }

 private:
  bool add_prefix_space_, use_regex_;
};

enum class PrependScheme { Always, First, Never };

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {
    int len;
    replacement_cp_ = unicode::decode(replacement_, 0, &len);
  }
  void pre_tokenize(PreTokenized& pt) const override {
    transform_pieces(pt, [this](std::string_view s, bool at_start, std::string& out) {
      bool starts = s.size() >= replacement_.size() && s.substr(0, replacement_.size()) == replacement_;
      // A leading space becomes the replacement, so test for both.
      starts = starts || (!s.empty() && s[0] == ' ');
      if ((scheme_ == PrependScheme::Always || (scheme_ == PrependScheme::First && at_start)) &&
          !starts) {
        out += replacement_;
      }
      for (char c : s) {
        if (c == ' ') {
          out += replacement_;
        } else {
          out.push_back(c);
        }
      }
    });
    if (split_) {
      uint32_t r = replacement_cp_;
      split_pieces(pt, SplitBehavior::MergedWithNext, [r](std::string_view s, std::vector<Span>& sp) {
        find_chars(s, sp, [r](uint32_t cp) { return cp == r; });
      });
    }
  }

 private:
  std::string replacement_;
  uint32_t replacement_cp_;
  PrependScheme scheme_;
  bool split_;
};

// Rust regex `\w+|[^\w\s]+` inverted with Removed: runs of word characters
// and runs of other non-space characters, whitespace dropped.
class WhitespacePreTokenizer : public PreTokenizer {
 public:
  void pre_tokenize(PreTokenized& pt) const override {
    split_pieces(pt, SplitBehavior::Removed, [](std::string_view s, std::vector<Span>& spans) {
      if (s.empty()) {
        spans.push_back({0, 0, false});
        return;
      }
      // 0 = space, 1 = word, 2 = other
      auto cls = [](uint32_t cp) {
        if (unicode::is_word_char(cp)) return 1;
        return unicode::is_white_space(cp) ? 0 : 2;
      };
      size_t i = 0;
      while (i < s.size()) {
        int len;
        int c = cls(unicode::decode(s, i, &len));
        size_t j = i + len;
        while (j < s.size()) {
          int l2;
          if (cls(unicode::decode(s, j, &l2)) != c) break;
          j += l2;
        }
        spans.push_back({i, j, c == 0});
        i = j;
      }
    });
  }
};

template <class Pred>
class CharSplitPreTokenizer : public PreTokenizer {
 public:
  CharSplitPreTokenizer(Pred pred, SplitBehavior behavior) : pred_(pred), behavior_(behavior) {}
  void pre_tokenize(PreTokenized& pt) const override {
    split_pieces(pt, behavior_, [this](std::string_view s, std::vector<Span>& spans) {
      find_chars(s, spans, pred_);
    });
  }

 private:
  Pred pred_;
  SplitBehavior behavior_;
};

template <class Pred>
PreTokenizerPtr make_char_split(Pred pred, SplitBehavior behavior) {
  return std::make_unique<CharSplitPreTokenizer<Pred>>(pred, behavior);
}

bool is_punc(uint32_t cp) { return unicode::is_ascii_punctuation(cp) || unicode::is_punctuation(cp); }

class FixedLengthPreTokenizer : public PreTokenizer {
 public:
  explicit FixedLengthPreTokenizer(size_t length) : length_(length) {}
  void pre_tokenize(PreTokenized& pt) const override {
    split_pieces(pt, SplitBehavior::Isolated, [this](std::string_view s, std::vector<Span>& spans) {
      size_t i = 0;
      while (i < s.size()) {
        size_t j = i;
        for (size_t k = 0; k < length_ && j < s.size(); ++k) {
          j += unicode::utf8_len(static_cast<unsigned char>(s[j]));
        }
        spans.push_back({i, j, false});
        i = j;
      }
    });
  }

 private:
  size_t length_;
};

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<PreTokenizerPtr> items) : items_(std::move(items)) {}
  void pre_tokenize(PreTokenized& pt) const override {
    for (const auto& p : items_) p->pre_tokenize(pt);
  }

 private:
  std::vector<PreTokenizerPtr> items_;
};

}  // namespace

PreTokenizerPtr make_split_pre_tokenizer(const std::string& pattern, bool is_regex,
                                         SplitBehavior behavior, bool invert) {
  return std::make_unique<SplitPreTokenizer>(pattern, is_regex, behavior, invert);
}

PreTokenizerPtr make_byte_level_pre_tokenizer(bool add_prefix_space, bool use_regex) {
  return std::make_unique<ByteLevelPreTokenizer>(add_prefix_space, use_regex);
}

PreTokenizerPtr make_sequence_pre_tokenizer(std::vector<PreTokenizerPtr> items) {
  return std::make_unique<SequencePreTokenizer>(std::move(items));
}

PreTokenizerPtr make_pre_tokenizer(const json& j) {
  if (j.is_null()) return nullptr;
  std::string type = json_util::type_of(j, "pre-tokenizer");
  if (type == "ByteLevel") {
    return make_byte_level_pre_tokenizer(json_util::get_bool(j, "add_prefix_space", true),
                                         json_util::get_bool(j, "use_regex", true));
  }
  if (type == "Split") {
    auto p = json_util::get_pattern(j, "Split pre-tokenizer");
    auto behavior = parse_split_behavior(
        json_util::require(j, "behavior", "Split pre-tokenizer").get<std::string>());
    return make_split_pre_tokenizer(p.text, p.is_regex, behavior,
                                    json_util::get_bool(j, "invert", false));
  }
  if (type == "Metaspace") {
    std::string replacement = json_util::get_char(j, "replacement", "\u2581");
    std::string scheme_name = json_util::get_string(j, "prepend_scheme", "always");
    PrependScheme scheme = scheme_name == "first"   ? PrependScheme::First
                           : scheme_name == "never" ? PrependScheme::Never
                                                    : PrependScheme::Always;
    if (scheme_name != "first" && scheme_name != "never" && scheme_name != "always") {
      throw std::invalid_argument("[tokenizer] unknown Metaspace prepend_scheme '" + scheme_name + "'");
    }
    auto aps = j.find("add_prefix_space");
    if (aps != j.end() && aps->is_boolean() && !aps->get<bool>()) {
      if (j.contains("prepend_scheme") && scheme != PrependScheme::Never) {
        throw std::invalid_argument("[tokenizer] Metaspace add_prefix_space does not match prepend_scheme");
      }
      scheme = PrependScheme::Never;
    }
    return std::make_unique<MetaspacePreTokenizer>(replacement, scheme,
                                                   json_util::get_bool(j, "split", true));
  }
  if (type == "Whitespace") return std::make_unique<WhitespacePreTokenizer>();
  if (type == "WhitespaceSplit") {
    return make_char_split(unicode::is_white_space, SplitBehavior::Removed);
  }
  if (type == "Punctuation") {
    auto b = parse_split_behavior(json_util::get_string(j, "behavior", "Isolated"));
    return make_char_split(is_punc, b);
  }
  if (type == "BertPreTokenizer") {
    std::vector<PreTokenizerPtr> items;
    items.push_back(make_char_split(unicode::is_white_space, SplitBehavior::Removed));
    items.push_back(make_char_split(is_punc, SplitBehavior::Isolated));
    return make_sequence_pre_tokenizer(std::move(items));
  }
  if (type == "Digits") {
    bool individual = json_util::get_bool(j, "individual_digits", false);
    return make_char_split(unicode::is_numeric,
                           individual ? SplitBehavior::Isolated : SplitBehavior::Contiguous);
  }
  if (type == "CharDelimiterSplit") {
    std::string d = json_util::get_char(j, "delimiter", " ");
    int len;
    uint32_t cp = unicode::decode(d, 0, &len);
    struct Eq {
      uint32_t c;
      bool operator()(uint32_t x) const { return x == c; }
    };
    return make_char_split(Eq{cp}, SplitBehavior::Removed);
  }
  if (type == "FixedLength") {
    int64_t len = json_util::get_int(j, "length", 5);
    if (len <= 0) throw std::invalid_argument("[tokenizer] FixedLength length must be positive");
    return std::make_unique<FixedLengthPreTokenizer>(static_cast<size_t>(len));
  }
  if (type == "Sequence") {
    std::vector<PreTokenizerPtr> items;
    for (const auto& sub : json_util::require(j, "pretokenizers", "Sequence pre-tokenizer")) {
      if (auto p = make_pre_tokenizer(sub)) items.push_back(std::move(p));
    }
    return make_sequence_pre_tokenizer(std::move(items));
  }
  json_util::unknown_type("pre-tokenizer", type);
}

}  // namespace uma::text::tokenizer
