#include "uma/serve/openai.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "uma/text/grammar/json_schema.h"

namespace uma::serve {

namespace {

[[noreturn]] void bad(const std::string& field, const std::string& what) {
  throw std::invalid_argument("'" + field + "' " + what);
}

const ojson* field(const ojson& body, const char* name) {
  auto it = body.find(name);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

double number(const ojson& body, const char* name, double lo, double hi) {
  const ojson* v = field(body, name);
  if (!v->is_number()) bad(name, "must be a number");
  double d = v->get<double>();
  if (!std::isfinite(d) || d < lo || d > hi) {
    bad(name, "must be in [" + ojson(lo).dump() + ", " + ojson(hi).dump() + "], got " + v->dump());
  }
  return d;
}

int64_t integer(const ojson& body, const char* name, int64_t lo, int64_t hi) {
  const ojson* v = field(body, name);
  if (!v->is_number_integer()) bad(name, "must be an integer");
  if (v->is_number_unsigned() ? v->get<uint64_t>() > uint64_t(hi)
                              : v->get<int64_t>() < lo || v->get<int64_t>() > hi) {
    bad(name,
        "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + v->dump());
  }
  return v->is_number_unsigned() ? int64_t(v->get<uint64_t>()) : v->get<int64_t>();
}

bool boolean(const ojson& body, const char* name) {
  const ojson* v = field(body, name);
  if (!v->is_boolean()) bad(name, "must be true or false");
  return v->get<bool>();
}

// A message's content as text: a string, or text parts joined.
std::string content_text(const ojson& content, size_t i) {
  const std::string where = "messages[" + std::to_string(i) + "].content";
  if (content.is_string()) return content.get<std::string>();
  if (content.is_null()) return "";
  if (!content.is_array()) bad(where, "must be a string or a list of text parts");
  std::string text;
  for (const auto& part : content) {
    if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") ||
        !part["text"].is_string()) {
      bad(where, "parts must be {\"type\": \"text\", \"text\": ...} (uma serves text models)");
    }
    text += part["text"].get<std::string>();
  }
  return text;
}

// response_format (OpenAI: text, json_object, json_schema) or grammar
// (llama.cpp's server: GBNF text) as a compiled grammar; null for text.
lm::GrammarPtr response_grammar(const ojson& body) {
  const ojson* g = field(body, "grammar");
  const ojson* f = field(body, "response_format");
  if (g) {
    if (!g->is_string()) bad("grammar", "must be a string of GBNF");
    if (f) bad("grammar", "cannot be combined with 'response_format'");
    try {
      return text::grammar::parse_gbnf(g->get<std::string>());
    } catch (const std::invalid_argument& e) {
      bad("grammar", std::string("is not a valid grammar: ") + e.what());
    }
  }
  if (!f) return nullptr;
  if (!f->is_object() || !f->contains("type") || !(*f)["type"].is_string()) {
    bad("response_format", "must be an object with a string 'type' (text, json_object or json_schema)");
  }
  const std::string type = (*f)["type"].get<std::string>();
  if (type == "text") return nullptr;
  std::string gbnf;
  if (type == "json_object") {
    gbnf = text::grammar::json_object_grammar();
  } else if (type == "json_schema") {
    const ojson* js = field(*f, "json_schema");
    if (!js || !js->is_object()) {
      bad("response_format.json_schema", "must be an object {\"name\", \"schema\", \"strict\"}");
    }
    if (const ojson* name = field(*js, "name"); name && !name->is_string()) {
      bad("response_format.json_schema.name", "must be a string");
    }
    text::grammar::JsonSchemaOptions o;
    if (field(*js, "strict")) o.strict = boolean(*js, "strict");
    const ojson* schema = field(*js, "schema");
    if (schema && !schema->is_object() && !schema->is_boolean()) {
      bad("response_format.json_schema.schema", "must be a JSON schema object");
    }
    try {
      gbnf = text::grammar::json_schema_to_grammar(schema ? *schema : ojson::object(), o);
    } catch (const std::invalid_argument& e) {
      bad("response_format.json_schema.schema", std::string("is not supported: ") + e.what());
    }
  } else {
    bad("response_format.type", "must be text, json_object or json_schema, got '" + type + "'");
  }
  try {
    return text::grammar::parse_gbnf(gbnf);
  } catch (const std::invalid_argument& e) {
    bad("response_format.json_schema.schema", std::string("is not supported: ") + e.what());
  }
}

}  // namespace

Request parse_request(const ojson& body, Endpoint endpoint, const lm::TextOptions& defaults) {
  if (!body.is_object()) throw std::invalid_argument("the request body must be a JSON object");
  Request r;
  r.endpoint = endpoint;
  r.options = defaults;
  auto& gen = r.options.gen;

  if (endpoint == Endpoint::chat) {
    const ojson* m = field(body, "messages");
    if (!m || !m->is_array() || m->empty())
      bad("messages", "must be a non-empty list of {\"role\", \"content\"}");
    for (size_t i = 0; i < m->size(); ++i) {
      const ojson& msg = (*m)[i];
      if (!msg.is_object() || !msg.contains("role") || !msg["role"].is_string()) {
        bad("messages[" + std::to_string(i) + "]", "must be an object with a string 'role'");
      }
      ojson out = msg;
      out["content"] = content_text(msg.contains("content") ? msg["content"] : ojson(), i);
      if (out.contains("tool_calls")) {
        if (!out["tool_calls"].is_array())
          bad("messages[" + std::to_string(i) + "].tool_calls", "must be a list");
        for (auto& call : out["tool_calls"]) {
          if (!call.is_object() || !call.contains("function") || !call["function"].is_object()) {
            bad("messages[" + std::to_string(i) + "].tool_calls",
                "entries must be {\"type\": \"function\", \"function\": {...}}");
          }
          auto& fn = call["function"];
          if (fn.contains("arguments") && fn["arguments"].is_string()) {
            try {
              fn["arguments"] = ojson::parse(fn["arguments"].get<std::string>());
            } catch (const ojson::exception&) {
              // not JSON: the template gets the string
            }
          }
        }
      }
      r.messages.push_back(std::move(out));
    }
    if (const ojson* t = field(body, "tools")) {
      if (!t->is_array())
        bad("tools", "must be a list of {\"type\": \"function\", \"function\": {...}}");
      for (const auto& tool : *t) {
        if (!tool.is_object())
          bad("tools", "must be a list of {\"type\": \"function\", \"function\": {...}}");
      }
      r.tools = *t;
    }
    if (const ojson* c = field(body, "tool_choice");
        c && c->is_string() && c->get<std::string>() == "none") {
      r.tools = ojson::array();
    }
  } else {
    const ojson* p = field(body, "prompt");
    if (p && p->is_array() && p->size() == 1 && (*p)[0].is_string()) p = &(*p)[0];
    if (!p || !p->is_string()) bad("prompt", "must be a string (or a list of one string)");
    r.prompt = p->get<std::string>();
  }

  if (field(body, "max_completion_tokens")) {
    gen.max_tokens = int(integer(body, "max_completion_tokens", 0, 1 << 24));
  } else if (field(body, "max_tokens")) {
    gen.max_tokens = int(integer(body, "max_tokens", 0, 1 << 24));
  }
  if (field(body, "temperature")) gen.sampler.temp = float(number(body, "temperature", 0, 1e4));
  if (field(body, "top_p")) gen.sampler.top_p = float(number(body, "top_p", 0, 1));
  if (field(body, "top_k")) gen.sampler.top_k = int(integer(body, "top_k", 0, 1 << 30));
  if (field(body, "min_p")) gen.sampler.min_p = float(number(body, "min_p", 0, 1));
  if (field(body, "seed")) gen.sampler.seed = uint64_t(integer(body, "seed", INT64_MIN, INT64_MAX));
  if (field(body, "repetition_penalty")) {
    gen.logits.repetition_penalty = float(number(body, "repetition_penalty", 1e-6, 1e6));
  }
  if (field(body, "repetition_context_size")) {
    gen.logits.repetition_context_size = int(integer(body, "repetition_context_size", 1, 1 << 20));
  }
  if (field(body, "presence_penalty"))
    gen.logits.presence_penalty = float(number(body, "presence_penalty", -2, 2));
  if (field(body, "frequency_penalty"))
    gen.logits.frequency_penalty = float(number(body, "frequency_penalty", -2, 2));
  if (const ojson* b = field(body, "logit_bias")) {
    if (!b->is_object()) bad("logit_bias", "must be an object of token id to bias");
    gen.logits.logit_bias.clear();
    for (auto& [k, v] : b->items()) {
      size_t pos = 0;
      int id = -1;
      try {
        id = std::stoi(k, &pos);
      } catch (const std::exception&) {
      }
      if (pos != k.size() || id < 0 || !v.is_number())
        bad("logit_bias", "'" + k + "' is not a token id with a numeric bias");
      gen.logits.logit_bias[id] = v.get<float>();
    }
  }
  if (const ojson* s = field(body, "stop")) {
    r.options.stop_strings.clear();
    if (s->is_string()) {
      r.options.stop_strings.push_back(s->get<std::string>());
    } else if (s->is_array()) {
      for (const auto& x : *s) {
        if (!x.is_string()) bad("stop", "must be a string or a list of strings");
        r.options.stop_strings.push_back(x.get<std::string>());
      }
    } else {
      bad("stop", "must be a string or a list of strings");
    }
    for (const auto& x : r.options.stop_strings) {
      if (x.empty()) bad("stop", "strings must not be empty");
    }
  }
  r.options.grammar = response_grammar(body);
  if (field(body, "n")) r.n = int(integer(body, "n", 1, 16));
  if (endpoint == Endpoint::chat) {
    if (field(body, "logprobs")) r.logprobs = boolean(body, "logprobs");
    if (field(body, "top_logprobs")) {
      int k = int(integer(body, "top_logprobs", 0, 20));
      if (!r.logprobs) bad("top_logprobs", "needs 'logprobs': true");
      gen.top_logprobs = k;
    } else if (r.logprobs) {
      gen.top_logprobs = 0;
    }
  } else if (field(body, "logprobs")) {
    gen.top_logprobs = int(integer(body, "logprobs", 0, 20));
    r.logprobs = true;
  }
  if (field(body, "stream")) r.stream = boolean(body, "stream");
  if (const ojson* so = field(body, "stream_options")) {
    if (!so->is_object()) bad("stream_options", "must be an object");
    if (field(*so, "include_usage")) r.include_usage = boolean(*so, "include_usage");
  }
  return r;
}

namespace {

ojson head(const Completion& c, const char* object) {
  return {{"id", c.id},
          {"object", object},
          {"created", c.created},
          {"model", c.model},
          {"system_fingerprint", "uma"}};
}

}  // namespace

ojson usage(const Completion& c) {
  return {{"prompt_tokens", c.prompt_tokens},
          {"completion_tokens", c.completion_tokens},
          {"total_tokens", c.prompt_tokens + c.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", c.cached_tokens}}}};
}

ojson logprobs_json(const text::tokenizer::Tokenizer& tok, const std::vector<int>& tokens,
                    const std::vector<lm::TokenLogprob>& lps, Endpoint endpoint, size_t offset) {
  auto text = [&](int id) { return tok.decode({int32_t(id)}, false); };
  auto bytes = [](const std::string& s) {
    ojson b = ojson::array();
    for (unsigned char ch : s) b.push_back(int(ch));
    return b;
  };
  const size_t n = std::min(tokens.size(), lps.size());
  if (endpoint == Endpoint::chat) {
    ojson content = ojson::array();
    for (size_t i = 0; i < n; ++i) {
      std::string t = text(tokens[i]);
      ojson top = ojson::array();
      for (auto& [id, lp] : lps[i].top) {
        std::string s = text(id);
        top.push_back({{"token", s}, {"logprob", lp}, {"bytes", bytes(s)}});
      }
      content.push_back(
          {{"token", t}, {"logprob", lps[i].logprob}, {"bytes", bytes(t)}, {"top_logprobs", top}});
    }
    return {{"content", content}};
  }
  ojson toks = ojson::array(), values = ojson::array(), tops = ojson::array(),
        offsets = ojson::array();
  for (size_t i = 0; i < n; ++i) {
    std::string t = text(tokens[i]);
    toks.push_back(t);
    values.push_back(lps[i].logprob);
    ojson top = ojson::object();
    for (auto& [id, lp] : lps[i].top) top[text(id)] = lp;
    tops.push_back(top);
    offsets.push_back(offset);
    offset += t.size();
  }
  return {{"tokens", toks},
          {"token_logprobs", values},
          {"top_logprobs", tops},
          {"text_offset", offsets}};
}

ojson response(const Completion& c, Endpoint endpoint) {
  const bool chat = endpoint == Endpoint::chat;
  ojson r = head(c, chat ? "chat.completion" : "text_completion");
  ojson choice = {{"index", c.index}};
  if (chat) {
    ojson m = {{"role", "assistant"}, {"content", c.text}};
    if (!c.reasoning.empty()) m["reasoning_content"] = c.reasoning;
    if (!c.tool_calls.empty()) {
      if (c.text.empty()) m["content"] = nullptr;
      m["tool_calls"] = c.tool_calls;
    }
    choice["message"] = m;
  } else {
    choice["text"] = c.text;
  }
  choice["logprobs"] = c.logprobs;
  choice["finish_reason"] = c.finish_reason;
  r["choices"] = ojson::array({choice});
  r["usage"] = usage(c);
  return r;
}

ojson chunk(const Completion& c, Endpoint endpoint, const std::string& delta, bool first,
            const std::string& finish_reason, const ojson& logprobs) {
  const bool chat = endpoint == Endpoint::chat;
  ojson r = head(c, chat ? "chat.completion.chunk" : "text_completion");
  ojson choice = {{"index", c.index}};
  if (chat) {
    ojson d = ojson::object();
    if (finish_reason.empty()) {
      if (first) d["role"] = "assistant";
      d["content"] = delta;
    }
    choice["delta"] = d;
  } else {
    choice["text"] = finish_reason.empty() ? delta : "";
  }
  choice["logprobs"] = logprobs;
  choice["finish_reason"] = finish_reason.empty() ? ojson(nullptr) : ojson(finish_reason);
  r["choices"] = ojson::array({choice});
  return r;
}

ojson delta_chunk(const Completion& c, const ojson& delta) {
  ojson r = head(c, "chat.completion.chunk");
  r["choices"] = ojson::array(
      {{{"index", c.index}, {"delta", delta}, {"logprobs", nullptr}, {"finish_reason", nullptr}}});
  return r;
}

ojson usage_chunk(const Completion& c, Endpoint endpoint) {
  ojson r = head(c, endpoint == Endpoint::chat ? "chat.completion.chunk" : "text_completion");
  r["choices"] = ojson::array();
  r["usage"] = usage(c);
  return r;
}

ojson error_body(const std::string& message, const std::string& type) {
  return {{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}}}};
}

}  // namespace uma::serve
