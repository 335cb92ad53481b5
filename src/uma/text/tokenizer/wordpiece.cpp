// WordPiece (greedy longest-match-first with a continuation prefix) and
// WordLevel (whole-word lookup), as in Hugging Face `tokenizers`.
#include <stdexcept>

#include "uma/text/tokenizer/model.h"
#include "uma/text/tokenizer/unicode.h"
#include "uma/text/tokenizer/vocab.h"

namespace uma::text::tokenizer {

namespace {

class WordPieceModel : public Model {
 public:
  WordPieceModel(Vocab vocab, std::string unk, std::string prefix, size_t max_chars)
      : vocab_(std::move(vocab)), unk_(std::move(unk)), prefix_(std::move(prefix)),
        max_chars_(max_chars) {}

  void tokenize(std::string_view w, std::vector<int32_t>& ids) const override {
    if (unicode::count_chars(w) > max_chars_) {
      ids.push_back(unk_id());
      return;
    }
    thread_local std::string buf;
    size_t before = ids.size();
    size_t start = 0;
    while (start < w.size()) {
      size_t end = w.size();
      int32_t found = -1;
      while (start < end) {
        std::string_view sub = w.substr(start, end - start);
        int32_t id;
        if (start > 0) {
          buf.assign(prefix_);
          buf.append(sub);
          id = vocab_.find(buf);
        } else {
          id = vocab_.find(sub);
        }
        if (id >= 0) {
          found = id;
          break;
        }
        int len;
        unicode::decode_last(w, end, &len);
        end -= len;
      }
      if (found < 0) {
        ids.resize(before);
        ids.push_back(unk_id());
        return;
      }
      ids.push_back(found);
      start = end;
    }
  }
  int32_t token_to_id(std::string_view t) const override { return vocab_.find(t); }
  std::optional<std::string_view> id_to_token(int32_t id) const override { return vocab_.token(id); }
  size_t vocab_size() const override { return vocab_.size(); }
  int32_t id_limit() const override { return vocab_.max_id() + 1; }
  const char* type_name() const override { return "WordPiece"; }

 private:
  int32_t unk_id() const {
    int32_t id = vocab_.find(unk_);
    if (id < 0) {
      throw std::invalid_argument("[tokenizer] WordPiece unk_token '" + unk_ +
                                  "' is not in the vocabulary");
    }
    return id;
  }
  Vocab vocab_;
  std::string unk_, prefix_;
  size_t max_chars_;
};

class WordLevelModel : public Model {
 public:
  WordLevelModel(Vocab vocab, std::string unk) : vocab_(std::move(vocab)), unk_(std::move(unk)) {}
  void tokenize(std::string_view w, std::vector<int32_t>& ids) const override {
    int32_t id = vocab_.find(w);
    if (id < 0) id = vocab_.find(unk_);
    if (id < 0) {
      throw std::invalid_argument("[tokenizer] WordLevel unk_token '" + unk_ +
                                  "' is not in the vocabulary");
    }
    ids.push_back(id);
  }
  int32_t token_to_id(std::string_view t) const override { return vocab_.find(t); }
  std::optional<std::string_view> id_to_token(int32_t id) const override { return vocab_.token(id); }
  size_t vocab_size() const override { return vocab_.size(); }
  int32_t id_limit() const override { return vocab_.max_id() + 1; }
  const char* type_name() const override { return "WordLevel"; }

 private:
  Vocab vocab_;
  std::string unk_;
};

}  // namespace

ModelPtr make_wordpiece(Vocab vocab, std::string unk_token, std::string prefix,
                        size_t max_input_chars_per_word) {
  return std::make_unique<WordPieceModel>(std::move(vocab), std::move(unk_token),
                                          std::move(prefix), max_input_chars_per_word);
}

ModelPtr make_wordlevel(Vocab vocab, std::string unk_token) {
  return std::make_unique<WordLevelModel>(std::move(vocab), std::move(unk_token));
}

}  // namespace uma::text::tokenizer
