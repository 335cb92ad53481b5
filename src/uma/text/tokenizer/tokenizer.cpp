#include "uma/text/tokenizer/tokenizer.h"

#include <stdexcept>

#include "uma/text/tokenizer/unicode.h"

namespace uma::text::tokenizer {

namespace {

// Per-thread buffers reused by every encode call.
struct EncodeState {
  std::string valid;
  std::string normalized;
  std::vector<AddedMatch> raw_matches, norm_matches;
  PreTokenized pt;
  std::vector<int32_t> ids;
};

EncodeState& encode_state() {
  thread_local EncodeState st;
  return st;
}

}  // namespace

Tokenizer::Tokenizer(TokenizerParts parts) : parts_(std::move(parts)) {
  if (!parts_.model) throw std::invalid_argument("[tokenizer] a tokenizer needs a model");
  added_.add_tokens(parts_.added_tokens, *parts_.model, parts_.normalizer.get());
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

void Tokenizer::set_post_processor(PostProcessorPtr post_processor) {
  parts_.post_processor = std::move(post_processor);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  std::vector<int32_t> ids;
  EncodeOptions opt;
  opt.add_special_tokens = add_special_tokens;
  encode(text, ids, opt);
  return ids;
}

void Tokenizer::encode(std::string_view text, std::vector<int32_t>& out,
                       const EncodeOptions& options) const {
  EncodeState& st = encode_state();
  if (!unicode::is_valid_utf8(text)) {
    st.valid.clear();
    unicode::append_lossy(st.valid, text);
    text = st.valid;
  }
  const bool skip_special = !options.parse_special_tokens;
  PreTokenized& pt = st.pt;
  pt.clear();

  // 1. Added tokens that match the original text, 2. normalization of the
  // rest, 3. added tokens that match the normalized text.
  st.raw_matches.clear();
  added_.split(text, false, skip_special, st.raw_matches);
  for (const AddedMatch& m : st.raw_matches) {
    if (m.id >= 0) {
      pt.pieces.push_back({0, 0, m.id, m.begin == 0});
      continue;
    }
    std::string_view seg = text.substr(m.begin, m.end - m.begin);
    if (parts_.normalizer) {
      st.normalized.assign(seg);
      parts_.normalizer->normalize(st.normalized);
      seg = st.normalized;
    }
    if (seg.empty()) continue;
    st.norm_matches.clear();
    added_.split(seg, true, skip_special, st.norm_matches);
    for (const AddedMatch& n : st.norm_matches) {
      bool at_start = m.begin == 0 && n.begin == 0;
      if (n.id >= 0) {
        pt.pieces.push_back({0, 0, n.id, at_start});
        continue;
      }
      auto b = static_cast<uint32_t>(pt.text.size());
      pt.text.append(seg.substr(n.begin, n.end - n.begin));
      pt.pieces.push_back({b, static_cast<uint32_t>(pt.text.size()), -1, at_start});
    }
  }

  if (parts_.pre_tokenizer) parts_.pre_tokenizer->pre_tokenize(pt);

  std::vector<int32_t>& ids = st.ids;
  ids.clear();
  for (const Piece& p : pt.pieces) {
    if (p.token >= 0) {
      ids.push_back(p.token);
    } else if (p.end > p.begin) {
      parts_.model->tokenize(pt.view(p), ids);
    }
  }
  if (parts_.post_processor) parts_.post_processor->process(ids, options.add_special_tokens);
  out.insert(out.end(), ids.begin(), ids.end());
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    std::optional<std::string_view> s = added_.id_to_token(id);
    if (!s) s = parts_.model->id_to_token(id);
    if (!s) continue;
    if (skip_special_tokens && added_.is_special_content(*s)) continue;
    tokens.emplace_back(*s);
  }
  if (parts_.decoder) parts_.decoder->decode_chain(tokens);
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!parts_.decoder && i > 0) out.push_back(' ');
    out += tokens[i];
  }
  return out;
}

std::optional<std::string> Tokenizer::id_to_token(int32_t id) const {
  if (auto s = added_.id_to_token(id)) return std::string(*s);
  if (auto s = parts_.model->id_to_token(id)) return std::string(*s);
  return std::nullopt;
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  int32_t id = added_.token_to_id(token);
  if (id < 0) id = parts_.model->token_to_id(token);
  if (id < 0) return std::nullopt;
  return id;
}

bool Tokenizer::is_special(int32_t id) const {
  const AddedToken* t = added_.token(id);
  return t != nullptr && t->special;
}

size_t Tokenizer::vocab_size(bool with_added_tokens) const {
  size_t n = parts_.model->vocab_size();
  if (!with_added_tokens) return n;
  for (const auto& [id, t] : added_.tokens()) {
    if (parts_.model->token_to_id(t.content) < 0) ++n;
  }
  return n;
}

int32_t Tokenizer::id_limit() const {
  int32_t n = parts_.model->id_limit();
  if (!added_.tokens().empty()) n = std::max(n, added_.tokens().rbegin()->first + 1);
  return n;
}

}  // namespace uma::text::tokenizer
