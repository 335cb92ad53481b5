// tokenizer.json from untrusted text: every component type the loader knows
// (models, normalizers, pre-tokenizers, post-processors, decoders, added
// tokens), then encode/decode of fixed strings and of pieces of the input.
#include <stdexcept>

#include "fuzz_util.h"
#include "uma/text/tokenizer/tokenizer.h"

namespace {

void round_trip(const uma::text::tokenizer::Tokenizer& tok, std::string_view text) {
  for (bool special : {true, false}) {
    std::vector<int32_t> ids;
    try {
      tok.encode(text, ids, {.add_special_tokens = special, .parse_special_tokens = special});
    } catch (const std::invalid_argument&) {
      // As in tokenizers, a model whose unk_token is not in its vocabulary
      // fails when it meets an unknown piece.
      continue;
    }
    for (int32_t id : ids) uma::fuzz::require(id >= 0 && id < tok.id_limit());
    (void)tok.decode(ids, special);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = uma::fuzz::as_text(data, size);
  std::optional<uma::text::tokenizer::Tokenizer> tok;
  try {
    tok.emplace(uma::text::tokenizer::Tokenizer::from_json(text, "fuzz"));
  } catch (const std::invalid_argument&) {
    return 0;
  }
  round_trip(*tok,
             "Hello world! It's 2024: 1234567 caf\xc3\xa9 \xe4\xbd\xa0\xe5\xa5\xbd "
             "\xf0\x9f\x98\x80\n\t  end");
  round_trip(*tok, "\xff\xfe invalid \xc3 utf-8 \xed\xa0\x80");
  // Pieces of the input reach vocabulary entries and added tokens.
  round_trip(*tok, text.substr(0, 256));
  round_trip(*tok, text.substr(size > 256 ? size - 256 : 0));

  const int32_t n = tok->id_limit();
  std::vector<int32_t> ids = {-1, 0, 1, n - 1, n, n + 1};
  for (size_t i = 0; i + 4 <= size && ids.size() < 64; i += size / 16 + 4) {
    ids.push_back(static_cast<int32_t>((data[i] | data[i + 1] << 8 | data[i + 2] << 16) % (n + 2)) -
                  1);
  }
  (void)tok->decode(ids, false);
  (void)tok->decode(ids, true);
  for (int32_t id : ids) {
    if (auto t = tok->id_to_token(id)) (void)tok->token_to_id(*t);
    (void)tok->is_special(id);
  }
  (void)tok->vocab_size(true);
  (void)tok->vocab_size(false);
  return 0;
}
