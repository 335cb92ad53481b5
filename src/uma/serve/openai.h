// The OpenAI API's request and response bodies for `uma serve`
// (/v1/chat/completions, /v1/completions), as mlx-lm's server reads and
// writes them: a request becomes the prompt and lm::TextOptions of one
// generation; the generation's text, counts and finish reason become the
// response object or its server-sent-event chunks.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "uma/lm/stream.h"

namespace uma::serve {

using ojson = nlohmann::ordered_json;

enum class Endpoint { chat, completion };

struct Request {
  Endpoint endpoint = Endpoint::chat;
  ojson messages = ojson::array();  // chat: [{"role", "content", ...}], contents as text
  ojson tools = ojson::array();     // chat: the tools to offer (rendered by the chat template)
  std::string prompt;               // completion
  lm::TextOptions options;          // the server's defaults, overridden by the request
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage: a last chunk with the usage
  bool logprobs =
      false;  // chat: logprobs true / completion: logprobs N (top N in options.gen.top_logprobs)
  int n = 1;  // choices, generated one after another (seed + i for choice i)
};

// Reads a request body. Fields: model (ignored: the server has one model),
// messages (chat; content a string or a list of {"type": "text", "text"}
// parts) or prompt (completion; a string or a list of one), max_tokens /
// max_completion_tokens, temperature, top_p, top_k, min_p, seed, stop (a
// string or a list), repetition_penalty, repetition_context_size,
// presence_penalty, frequency_penalty, logit_bias, stream, stream_options,
// n (1-16), logprobs and top_logprobs (chat: logprobs true, top_logprobs
// 0-20; completions: logprobs 0-20), tools and tool_choice ("none" drops the tools); messages keep
// tool_calls (string arguments parsed, as templates expect objects),
// tool_call_id and name, response_format (text, json_object, json_schema
// with name, schema and strict) or llama.cpp's grammar (GBNF) as
// options.grammar. Throws std::invalid_argument naming the field for a
// wrong type or value, and for a schema it cannot enforce.
Request parse_request(const ojson& body, Endpoint endpoint, const lm::TextOptions& defaults);

// What one generation produced: choice `index` of a response.
struct Completion {
  int index = 0;
  std::string id;     // "chatcmpl-..." / "cmpl-..."
  std::string model;  // the server's model id
  int64_t created = 0;
  std::string text, finish_reason;
  std::string reasoning;              // chat: reasoning_content, when the model thought aloud
  ojson tool_calls = ojson::array();  // chat: the calls the model made (finish_reason "tool_calls")
  ojson logprobs = nullptr;           // the choice's "logprobs", when asked (logprobs_json)
  int prompt_tokens = 0, completion_tokens = 0;
  int cached_tokens = 0;  // of prompt_tokens, those served from the prompt cache
};

// OpenAI's "logprobs" of a choice for `tokens` with their log-probabilities:
// chat {"content": [{token, logprob, bytes, top_logprobs: [{token, logprob,
// bytes}]}]}; completions {tokens, token_logprobs, top_logprobs: [{token:
// logprob}], text_offset} (offsets from `offset`). Token strings are each
// token decoded alone (special tokens kept).
ojson logprobs_json(const text::tokenizer::Tokenizer& tok, const std::vector<int>& tokens,
                    const std::vector<lm::TokenLogprob>& lps, Endpoint endpoint, size_t offset = 0);

// The whole response (stream: false).
ojson response(const Completion& c, Endpoint endpoint);

// One server-sent event's object while streaming: `delta` text (chat: the
// first chunk also carries the assistant role), or the last chunk with the
// finish reason (finish_reason non-empty, delta ignored).
ojson chunk(const Completion& c, Endpoint endpoint, const std::string& delta, bool first,
            const std::string& finish_reason, const ojson& logprobs = nullptr);

// A chat chunk carrying `delta` as given (reasoning_content, tool_calls, ...).
ojson delta_chunk(const Completion& c, const ojson& delta);

// {"prompt_tokens", "completion_tokens", "total_tokens",
// "prompt_tokens_details": {"cached_tokens"}}.
ojson usage(const Completion& c);

// The usage-only chunk that ends a stream with include_usage.
ojson usage_chunk(const Completion& c, Endpoint endpoint);

// {"error": {"message", "type", "param", "code"}}.
ojson error_body(const std::string& message, const std::string& type = "invalid_request_error");

}  // namespace uma::serve
