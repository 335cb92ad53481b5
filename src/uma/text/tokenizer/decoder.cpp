#include "uma/text/tokenizer/decoder.h"

#include "uma/text/tokenizer/json_util.h"
#include "uma/text/tokenizer/regex.h"
#include "uma/text/tokenizer/unicode.h"

namespace uma::text::tokenizer {

namespace {

using json_util::json;

class ByteLevelDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const std::string& tok : tokens) {
      // A token with a character outside the alphabet passes through raw.
      if (!unicode::byte_level_to_bytes(tok, bytes)) bytes += tok;
    }
    std::string out;
    unicode::append_lossy(out, bytes);
    tokens.assign(1, std::move(out));
  }
};

class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool prepend)
      : replacement_(std::move(replacement)), prepend_(prepend) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string out;
      const std::string& tok = tokens[i];
      size_t pos = 0;
      while (pos < tok.size()) {
        if (tok.compare(pos, replacement_.size(), replacement_) == 0) {
          if (!(i == 0 && prepend_)) out.push_back(' ');
          pos += replacement_.size();
        } else {
          int len = unicode::utf8_len(static_cast<unsigned char>(tok[pos]));
          out.append(tok, pos, len);
          pos += len;
        }
      }
      tokens[i] = std::move(out);
    }
  }

 private:
  std::string replacement_;
  bool prepend_;
};

class ByteFallbackDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    std::string pending;
    auto flush = [&]() {
      if (pending.empty()) return;
      if (unicode::is_valid_utf8(pending)) {
        out.push_back(pending);
      } else {
        for (size_t k = 0; k < pending.size(); ++k) out.emplace_back("\xEF\xBF\xBD");
      }
      pending.clear();
    };
    for (std::string& tok : tokens) {
      if (int byte = unicode::byte_fallback_byte(tok); byte >= 0) {
        pending.push_back(static_cast<char>(byte));
      } else {
        flush();
        out.push_back(std::move(tok));
      }
    }
    flush();
    tokens.swap(out);
  }
};

class FuseDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string all;
    for (const auto& t : tokens) all += t;
    tokens.assign(1, std::move(all));
  }
};

class StripDecoder : public Decoder {
 public:
  StripDecoder(std::string content, size_t start, size_t stop)
      : content_(std::move(content)), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::string& tok : tokens) {
      size_t b = 0, e = tok.size();
      for (size_t k = 0; k < start_ && b < e; ++k) {
        if (tok.compare(b, content_.size(), content_) != 0) break;
        b += content_.size();
      }
      for (size_t k = 0; k < stop_ && e > b; ++k) {
        if (e < content_.size() || tok.compare(e - content_.size(), content_.size(), content_) != 0) break;
        e -= content_.size();
      }
      tok = tok.substr(b, e - b);
    }
  }

 private:
  std::string content_;
  size_t start_, stop_;
};

class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(const json_util::Pattern& p, std::string content)
      : regex_(p.is_regex ? p.text : Regex::escape(p.text)), content_(std::move(content)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<Span> spans;
    for (std::string& tok : tokens) {
      spans.clear();
      regex_.find_matches(tok, spans);
      std::string out;
      for (const Span& s : spans) {
        if (s.is_match) {
          out += content_;
        } else {
          out.append(tok, s.begin, s.end - s.begin);
        }
      }
      tok = std::move(out);
    }
  }

 private:
  Regex regex_;
  std::string content_;
};

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  size_t pos = s.find(from);
  if (pos == std::string::npos) return;
  std::string out;
  size_t prev = 0;
  while (pos != std::string::npos) {
    out.append(s, prev, pos - prev);
    out.append(to);
    prev = pos + from.size();
    pos = s.find(from, prev);
  }
  out.append(s, prev, std::string::npos);
  s.swap(out);
}

class WordPieceDecoder : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup) : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string& tok = tokens[i];
      if (i != 0) {
        if (tok.compare(0, prefix_.size(), prefix_) == 0) {
          tok.erase(0, prefix_.size());
        } else {
          tok = " " + tok;
        }
      }
      if (cleanup_) {
        replace_all(tok, " .", ".");
        replace_all(tok, " ?", "?");
        replace_all(tok, " !", "!");
        replace_all(tok, " ,", ",");
        replace_all(tok, " ' ", "'");
        replace_all(tok, " n't", "n't");
        replace_all(tok, " 'm", "'m");
        replace_all(tok, " do not", " don't");
        replace_all(tok, " 's", "'s");
        replace_all(tok, " 've", "'ve");
        replace_all(tok, " 're", "'re");
      }
    }
  }

 private:
  std::string prefix_;
  bool cleanup_;
};

class BpeDecoder : public Decoder {
 public:
  explicit BpeDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (!suffix_.empty()) replace_all(tokens[i], suffix_, i + 1 == tokens.size() ? "" : " ");
    }
  }

 private:
  std::string suffix_;
};

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<DecoderPtr> items) : items_(std::move(items)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (const auto& d : items_) d->decode_chain(tokens);
  }

 private:
  std::vector<DecoderPtr> items_;
};

}  // namespace

DecoderPtr make_byte_level_decoder() { return std::make_unique<ByteLevelDecoder>(); }

DecoderPtr make_sentencepiece_decoder(bool strip_leading_space) {
  std::vector<DecoderPtr> items;
  items.push_back(std::make_unique<ReplaceDecoder>(json_util::Pattern{false, "\u2581"}, " "));
  items.push_back(std::make_unique<ByteFallbackDecoder>());
  items.push_back(std::make_unique<FuseDecoder>());
  if (strip_leading_space) items.push_back(std::make_unique<StripDecoder>(" ", 1, 0));
  return std::make_unique<SequenceDecoder>(std::move(items));
}

DecoderPtr make_decoder(const json& j) {
  if (j.is_null()) return nullptr;
  std::string type = json_util::type_of(j, "decoder");
  if (type == "ByteLevel") return make_byte_level_decoder();
  if (type == "Metaspace") {
    std::string scheme = json_util::get_string(j, "prepend_scheme", "always");
    auto aps = j.find("add_prefix_space");
    if (aps != j.end() && aps->is_boolean() && !aps->get<bool>()) scheme = "never";
    return std::make_unique<MetaspaceDecoder>(json_util::get_char(j, "replacement", "\u2581"),
                                              scheme != "never");
  }
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") {
    int64_t start = json_util::get_int(j, "start", 0), stop = json_util::get_int(j, "stop", 0);
    if (start < 0 || stop < 0) throw std::invalid_argument("[tokenizer] Strip decoder counts must be >= 0");
    return std::make_unique<StripDecoder>(json_util::get_char(j, "content", " "), start, stop);
  }
  if (type == "Replace") {
    return std::make_unique<ReplaceDecoder>(json_util::get_pattern(j, "Replace decoder"),
                                            json_util::get_string(j, "content", ""));
  }
  if (type == "WordPiece") {
    return std::make_unique<WordPieceDecoder>(json_util::get_string(j, "prefix", "##"),
                                              json_util::get_bool(j, "cleanup", true));
  }
  if (type == "BPEDecoder") return std::make_unique<BpeDecoder>(json_util::get_string(j, "suffix", "</w>"));
  if (type == "Sequence") {
    std::vector<DecoderPtr> items;
    for (const auto& sub : json_util::require(j, "decoders", "Sequence decoder")) {
      if (auto d = make_decoder(sub)) items.push_back(std::move(d));
    }
    return std::make_unique<SequenceDecoder>(std::move(items));
  }
  json_util::unknown_type("decoder", type);
}

}  // namespace uma::text::tokenizer
