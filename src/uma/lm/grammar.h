// Grammar-constrained decoding: a logits processor that lets through only
// the tokens a grammar (GBNF, or a JSON schema compiled to it) allows next,
// and the end-of-sequence ids only once the grammar is complete.
//
//   TextOptions o;
//   o.grammar = compile_grammar(json_schema_to_grammar(schema));
//   stream_generate(model, tok, prompt, o, on_text);  // the text parses
//
// stream_generate builds a GrammarProcessor per generation (the grammar is
// shared, the matching state is not) and stops, finish_reason "stop", once
// the grammar is complete and nothing else may follow. A processor that
// needs each token before the next step is built turns off TokenGenerator's
// build-ahead, as the penalties do.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "uma/lm/sample.h"
#include "uma/text/grammar/grammar.h"
#include "uma/text/grammar/token_mask.h"
#include "uma/text/tokenizer/load.h"

namespace uma::lm {

using GrammarPtr = std::shared_ptr<const text::grammar::Grammar>;

// The vocabulary trie of `tok` with these end-of-sequence ids, built once
// per tokenizer (and eos list) while the tokenizer lives.
std::shared_ptr<const text::grammar::TokenTrie> grammar_vocabulary(const text::tokenizer::LoadedTokenizer& tok,
                                                                   const std::vector<int>& eos_ids);

class GrammarProcessor {
 public:
  GrammarProcessor(GrammarPtr grammar, std::shared_ptr<const text::grammar::TokenTrie> trie);

  // Sets the logits of disallowed tokens (and of ids past the vocabulary)
  // to -inf, after catching up with the tokens of `history` generated since
  // the first call (the prompt). Throws std::runtime_error "[grammar] ..."
  // when no token can continue.
  array operator()(const std::vector<int>& history, const array& logits);
  // Feeds one generated token now (stream_generate does, to know at once
  // whether the grammar is done); operator() then skips it. Throws
  // std::runtime_error "[grammar] ..." for a token the grammar refuses.
  void accept_token(int token);
  // Complete, and nothing but the end may follow.
  bool done() const { return matcher_.is_done(); }
  const text::grammar::GrammarMatcher& matcher() const { return matcher_; }

 private:
  std::shared_ptr<const text::grammar::TokenTrie> trie_;
  text::grammar::GrammarMatcher matcher_;
  text::grammar::TokenMasker masker_;
  long base_ = -1;  // history length at the first call: the prompt
  long fed_ = 0;    // generated tokens fed to the matcher
  std::vector<float> row_;
  std::vector<uint32_t> last_bits_;  // the mask of the last step, and its array
  std::optional<array> mask_;
};

// The processor as a LogitsProcessor (it keeps `p` alive).
LogitsProcessor as_logits_processor(std::shared_ptr<GrammarProcessor> p);

// parse_gbnf with its error prefixed by `what` (e.g. "--grammar").
GrammarPtr compile_grammar(const std::string& gbnf, const std::string& what = "grammar");

}  // namespace uma::lm
