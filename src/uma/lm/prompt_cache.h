// The KV caches of one conversation and the tokens they hold, so that a new
// prompt feeds only what follows the longest prefix already computed: a chat
// turn costs the new message, not the whole conversation. `uma chat` keeps
// one; a server keeps one per conversation (and --prompt-cache-file saves
// one).
//
//   PromptCache pc(*lm.model, max_kv_size);
//   auto fresh = pc.fetch(prompt);             // trims the caches to the prefix
//   auto r = stream_generate(*lm.model, lm.tokenizer, fresh, opts, on_text, &pc.caches());
//   pc.record(r.tokens);                       // after generating
#pragma once

#include <optional>
#include <vector>

#include "uma/lm/kv_cache.h"
#include "uma/lm/model.h"

namespace uma::lm {

class PromptCache {
 public:
  // Empty caches of `model` (which must outlive this object), bounded by
  // max_kv_size as Model::make_cache does.
  explicit PromptCache(const Model& model, std::optional<int> max_kv_size = std::nullopt);

  // Makes the caches ready for `prompt`: keeps the longest common prefix of
  // the held tokens and `prompt`, but leaves at least one token to feed (the
  // last prompt token's logits start the answer), and returns the tokens of
  // `prompt` after the kept prefix. The rest of the caches is trimmed; where
  // a cache cannot drop its tail (a rotating cache that has wrapped), they
  // start over and the whole prompt is returned. Feed exactly the returned
  // tokens through caches() before the next call.
  std::vector<int> fetch(const std::vector<int>& prompt);

  // After generating from the tokens fetch returned: the caches hold the
  // prompt and `generated` (the generated ids, EOS excluded), except that
  // the last generated token is never fed, and one more (an EOS, or a step
  // built ahead) may have been. Keeps what is known to be held and trims
  // any extra; tokens() is then exactly what the caches hold.
  void record(const std::vector<int>& generated);

  // Takes over caches that hold `tokens` (a prompt cache file's): fetch
  // then keeps their longest prefix in common with the next prompt. A token
  // of -1 stands for one the file did not record; it matches only itself.
  void assign(CacheList caches, std::vector<int> tokens);

  // Empty caches (after /reset, or after a failed generation, which may
  // leave the caches half-fed).
  void reset();

  CacheList& caches() { return caches_; }
  // The tokens the caches hold (between fetch and record: the prompt).
  const std::vector<int>& tokens() const { return tokens_; }
  // How many tokens the caches have seen (0 when empty).
  int offset() const;

 private:
  // Keeps the first `keep` held tokens; starts over where a cache cannot
  // drop the rest.
  void keep_prefix(size_t keep);

  const Model* model_;
  std::optional<int> max_kv_size_;
  CacheList caches_;
  std::vector<int> tokens_;
};

}  // namespace uma::lm
