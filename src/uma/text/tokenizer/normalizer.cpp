#include "uma/text/tokenizer/normalizer.h"

#include "uma/text/tokenizer/json_util.h"
#include "uma/text/tokenizer/regex.h"
#include "uma/text/tokenizer/unicode.h"

namespace uma::text::tokenizer {

namespace {

using json_util::json;

// Per-thread buffer to build the new text in, swapped with the input.
std::string& scratch() {
  thread_local std::string s;
  s.clear();
  return s;
}

bool is_ascii(const std::string& s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

// Rewrites text char by char: f(cp, out) appends the replacement.
template <class F>
void map_chars(std::string& text, F f) {
  std::string& out = scratch();
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    int len;
    uint32_t cp = unicode::decode(text, i, &len);
    f(cp, out);
    i += len;
  }
  text.swap(out);
}

class UnicodeNormalizer : public Normalizer {
 public:
  explicit UnicodeNormalizer(unicode::NormForm form) : form_(form) {}
  void normalize(std::string& text) const override {
    if (is_ascii(text)) return;
    std::string& out = scratch();
    unicode::normalize(text, form_, out);
    text.swap(out);
  }

 private:
  unicode::NormForm form_;
};

class Lowercase : public Normalizer {
 public:
  void normalize(std::string& text) const override {
    std::string& out = scratch();
    unicode::lowercase(text, out);
    text.swap(out);
  }
};

class Strip : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::string& text) const override {
    size_t b = 0, e = text.size();
    int len;
    if (left_) {
      while (b < e && unicode::is_white_space(unicode::decode(text, b, &len))) b += len;
    }
    if (right_) {
      while (e > b && unicode::is_white_space(unicode::decode_last(text, e, &len))) e -= len;
    }
    text = text.substr(b, e - b);
  }

 private:
  bool left_, right_;
};

class StripAccents : public Normalizer {
 public:
  void normalize(std::string& text) const override {
    if (is_ascii(text)) return;
    map_chars(text, [](uint32_t cp, std::string& out) {
      if (!unicode::is_mark(cp)) unicode::append_utf8(out, cp);
    });
  }
};

class Replace : public Normalizer {
 public:
  Replace(const json_util::Pattern& p, std::string content) : content_(std::move(content)) {
    if (p.is_regex || p.text.empty()) {
      regex_ = std::make_unique<Regex>(p.is_regex ? p.text : Regex::escape(p.text));
    } else {
      literal_ = p.text;
    }
  }
  void normalize(std::string& text) const override {
    std::string& out = scratch();
    if (!regex_) {
      size_t pos = text.find(literal_);
      if (pos == std::string::npos) return;
      size_t prev = 0;
      while (pos != std::string::npos) {
        out.append(text, prev, pos - prev);
        out += content_;
        prev = pos + literal_.size();
        pos = text.find(literal_, prev);
      }
      out.append(text, prev, std::string::npos);
    } else {
      thread_local std::vector<Span> spans;
      spans.clear();
      regex_->find_matches(text, spans);
      for (const Span& s : spans) {
        if (s.is_match) {
          out += content_;
        } else {
          out.append(text, s.begin, s.end - s.begin);
        }
      }
    }
    text.swap(out);
  }

 private:
  std::string literal_, content_;
  std::unique_ptr<Regex> regex_;
};

class Prepend : public Normalizer {
 public:
  explicit Prepend(std::string s) : prepend_(std::move(s)) {}
  void normalize(std::string& text) const override {
    if (!text.empty()) text.insert(0, prepend_);
  }

 private:
  std::string prepend_;
};

bool is_chinese_char(uint32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

class BertNormalizer : public Normalizer {
 public:
  BertNormalizer(bool clean_text, bool chinese, bool strip_accents, bool lowercase)
      : clean_text_(clean_text), chinese_(chinese), strip_accents_(strip_accents),
        lowercase_(lowercase) {}
  void normalize(std::string& text) const override {
    if (clean_text_) {
      map_chars(text, [](uint32_t cp, std::string& out) {
        bool ws = cp == '\t' || cp == '\n' || cp == '\r' || unicode::is_white_space(cp);
        bool control = !(cp == '\t' || cp == '\n' || cp == '\r') && unicode::is_other(cp);
        if (cp == 0 || cp == 0xFFFD || control) return;
        unicode::append_utf8(out, ws ? ' ' : cp);
      });
    }
    if (chinese_) {
      map_chars(text, [](uint32_t cp, std::string& out) {
        if (is_chinese_char(cp)) {
          out.push_back(' ');
          unicode::append_utf8(out, cp);
          out.push_back(' ');
        } else {
          unicode::append_utf8(out, cp);
        }
      });
    }
    if (strip_accents_ && !is_ascii(text)) {
      std::string& nfd = scratch();
      unicode::normalize(text, unicode::NormForm::NFD, nfd);
      text.swap(nfd);
      map_chars(text, [](uint32_t cp, std::string& out) {
        if (!unicode::is_mark_nonspacing(cp)) unicode::append_utf8(out, cp);
      });
    }
    if (lowercase_) {
      std::string& out = scratch();
      unicode::lowercase(text, out);
      text.swap(out);
    }
  }

 private:
  bool clean_text_, chinese_, strip_accents_, lowercase_;
};

class Nmt : public Normalizer {
 public:
  void normalize(std::string& text) const override {
    map_chars(text, [](uint32_t c, std::string& out) {
      if ((c >= 0x01 && c <= 0x08) || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F ||
          c == 0x8F || c == 0x9F) {
        return;
      }
      bool space = c == 0x09 || c == 0x0A || c == 0x0C || c == 0x0D || c == 0x1680 ||
                   (c >= 0x200B && c <= 0x200F) || c == 0x2028 || c == 0x2029 || c == 0x2581 ||
                   c == 0xFEFF || c == 0xFFFD;
      unicode::append_utf8(out, space ? ' ' : c);
    });
  }
};

class ByteLevelNormalizer : public Normalizer {
 public:
  void normalize(std::string& text) const override {
    const auto& t = unicode::byte_level_table();
    std::string& out = scratch();
    for (unsigned char b : text) out.append(t.utf8[b].data(), t.utf8_len[b]);
    text.swap(out);
  }
};

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<NormalizerPtr> items) : items_(std::move(items)) {}
  void normalize(std::string& text) const override {
    for (const auto& n : items_) n->normalize(text);
  }

 private:
  std::vector<NormalizerPtr> items_;
};

}  // namespace

NormalizerPtr make_unicode_normalizer(UnicodeForm form) {
  return std::make_unique<UnicodeNormalizer>(static_cast<unicode::NormForm>(form));
}
NormalizerPtr make_prepend_normalizer(std::string prepend) {
  return std::make_unique<Prepend>(std::move(prepend));
}
NormalizerPtr make_replace_normalizer(const std::string& literal, std::string content) {
  return std::make_unique<Replace>(json_util::Pattern{false, literal}, std::move(content));
}
NormalizerPtr make_sequence_normalizer(std::vector<NormalizerPtr> normalizers) {
  return std::make_unique<SequenceNormalizer>(std::move(normalizers));
}

NormalizerPtr make_normalizer(const json& j) {
  if (j.is_null()) return nullptr;
  std::string type = json_util::type_of(j, "normalizer");
  if (type == "NFC") return make_unicode_normalizer(UnicodeForm::NFC);
  if (type == "NFD") return make_unicode_normalizer(UnicodeForm::NFD);
  if (type == "NFKC") return make_unicode_normalizer(UnicodeForm::NFKC);
  if (type == "NFKD") return make_unicode_normalizer(UnicodeForm::NFKD);
  if (type == "Lowercase") return std::make_unique<Lowercase>();
  if (type == "Strip") {
    return std::make_unique<Strip>(json_util::get_bool(j, "strip_left", true),
                                   json_util::get_bool(j, "strip_right", true));
  }
  if (type == "StripAccents") return std::make_unique<StripAccents>();
  if (type == "Replace") {
    return std::make_unique<Replace>(json_util::get_pattern(j, "Replace normalizer"),
                                     json_util::get_string(j, "content", ""));
  }
  if (type == "Prepend") {
    return make_prepend_normalizer(
        json_util::require(j, "prepend", "Prepend normalizer").get<std::string>());
  }
  if (type == "BertNormalizer" || type == "Bert") {
    bool lowercase = json_util::get_bool(j, "lowercase", true);
    auto sa = j.find("strip_accents");
    bool strip = (sa == j.end() || sa->is_null()) ? lowercase : sa->get<bool>();
    return std::make_unique<BertNormalizer>(json_util::get_bool(j, "clean_text", true),
                                            json_util::get_bool(j, "handle_chinese_chars", true),
                                            strip, lowercase);
  }
  if (type == "Nmt") return std::make_unique<Nmt>();
  if (type == "ByteLevel") return std::make_unique<ByteLevelNormalizer>();
  if (type == "Sequence") {
    std::vector<NormalizerPtr> items;
    for (const auto& sub : json_util::require(j, "normalizers", "Sequence normalizer")) {
      if (auto n = make_normalizer(sub)) items.push_back(std::move(n));
    }
    return make_sequence_normalizer(std::move(items));
  }
  json_util::unknown_type("normalizer", type);
}

}  // namespace uma::text::tokenizer
