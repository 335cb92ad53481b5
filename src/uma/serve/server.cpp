#include "uma/serve/server.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>

#include "uma/core/allocator.h"
#include "uma/serve/connection.h"
#include "uma/serve/http_server.h"
#include "uma/serve/scheduler.h"
#include "uma/serve/tool_calls.h"
#include "uma/serve/web.h"
#include "uma/text/chat_template.h"

namespace uma::serve {

namespace {

int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void send_json(httplib::Response& res, const ojson& body, int status = 200) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, ojson::error_handler_t::replace), "application/json");
}

// Request bodies nesting arrays and objects deeper than this are refused
// before parsing: copying, comparing and dumping json recurse, and so do the
// chat template and the schema compiler (100000 levels overflow the stack).
constexpr int kMaxNesting = 128;

void check_nesting(const std::string& text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if ((c == '[' || c == '{') && ++depth > kMaxNesting) {
      throw std::invalid_argument("the request body nests arrays and objects deeper than " +
                                  std::to_string(kMaxNesting) + " levels");
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

std::string too_large(size_t max_body_bytes) {
  return "the request body is larger than " + std::to_string(max_body_bytes >> 20) + " MiB";
}

const char* const kGone =
    "the client closed its side of the connection before the answer was ready (taken as hanging up)";

std::string sse(const ojson& j) {
  return "data: " + j.dump(-1, ' ', false, ojson::error_handler_t::replace) + "\n\n";
}

// gpt-oss ends its turn with <|return|> and a call with <|call|>, while
// <|end|> only ends one message (the analysis before the answer): a
// checkpoint's generation config may not say so (GGUF metadata names
// <|end|> as the end of a turn), so the stops are set from the format.
void harmony_stops(text::tokenizer::LoadedTokenizer& tok) {
  for (const char* s : {"<|return|>", "<|call|>"}) {
    if (auto id = tok.tokenizer->token_to_id(s); id && !tok.is_eos(*id)) tok.eos_ids.push_back(*id);
  }
  if (auto end = tok.tokenizer->token_to_id("<|end|>")) std::erase(tok.eos_ids, *end);
}

bool ends_with_think(const std::string& rendered) {
  size_t e = rendered.find_last_not_of(" \t\r\n");
  return e != std::string::npos && e + 1 >= 7 && rendered.compare(e + 1 - 7, 7, "<think>") == 0;
}

}  // namespace

struct Server::Impl {
  lm::Loaded& lm;
  ServerOptions opts;
  HttpServer http;
  Scheduler sched;             // runs every request's sequences as one batch
  std::atomic<int> queued{0};  // requests generating or waiting for it
  std::mutex prompting;        // chat template rendering
  std::atomic<uint64_t> next_id{0};
  int port = -1;
  TemplateTraits traits;  // what the chat template teaches: tool-call format, <think>

  Impl(lm::Loaded& m, ServerOptions o)
      : lm(m),
        opts(std::move(o)),
        http(HttpLimits{opts.request_timeout_s, std::max(opts.max_connections, std::min(opts.max_queue, 1 << 16) + 16),
                        64 << 10, opts.max_body_bytes}),
        sched(m, {opts.max_concurrency, opts.prompt_cache_bytes}) {
    if (const auto* t = lm.tokenizer.chat_template()) traits = template_traits(t->source);
    if (traits.tools == ToolFormat::harmony) harmony_stops(lm.tokenizer);
  }

  // A request's sequences, one per choice, queued at once so that they run
  // side by side; the ones still running are cancelled when this goes (the
  // request failed, or its client has gone).
  struct Choices {
    std::vector<std::shared_ptr<Job>> jobs;
    Choices(Scheduler& s, const Request& r, const std::vector<int>& prompt) {
      for (int i = 0; i < r.n; ++i) jobs.push_back(s.submit(prompt, choice_options(r, i)));
    }
    Choices(const Choices&) = delete;
    ~Choices() {
      for (auto& j : jobs) j->cancel();
    }
  };

  // Hands job's text events to on_text as they come (false: the client has
  // gone) and watches the connection `fd` meanwhile; either way the job is
  // then cancelled and an empty result returned. Throws what failed the job:
  // std::invalid_argument when the request was at fault, else runtime_error.
  static lm::TextResult await(Job& job, int fd, const std::function<bool(const lm::TextResponse&)>& on_text) {
    std::vector<lm::TextResponse> events;
    auto polled = std::chrono::steady_clock::now();
    for (bool more = true; more;) {
      events.clear();
      more = job.wait(events, std::chrono::milliseconds(100));
      for (auto& e : events) {
        if (!on_text(e)) {
          job.cancel();
          return {};
        }
      }
      if (more && std::chrono::steady_clock::now() - polled > std::chrono::milliseconds(100)) {
        polled = std::chrono::steady_clock::now();
        if (peer_closed(fd)) {
          job.cancel();
          return {};
        }
      }
    }
    if (!job.error().empty()) {
      if (job.invalid()) throw std::invalid_argument(job.error());
      throw std::runtime_error(job.error());
    }
    return job.result();
  }

  // `in_reasoning`: the rendering ends inside <think> (the answer starts in it).
  std::vector<int> prompt_tokens(const Request& r, bool& in_reasoning) {
    if (r.endpoint == Endpoint::chat) {
      lm::PromptOptions po = opts.prompt;
      if (!r.tools.empty()) {
        if (!po.template_kwargs.is_object()) po.template_kwargs = ojson::object();
        po.template_kwargs["tools"] = r.tools;
      }
      std::string rendered;
      auto ids = lm::build_prompt(lm, template_messages(r.messages, traits), po, &rendered);
      in_reasoning = traits.reasoning && ends_with_think(rendered);
      return ids;
    }
    // /v1/completions: the text as is, with the tokenizer's special tokens (BOS).
    lm::PromptOptions raw = opts.prompt;
    raw.use_chat_template = false;
    return lm::build_prompt(lm, ojson::array({{{"role", "user"}, {"content", r.prompt}}}), raw);
  }

  // Choice i's options: the request's, with seed + i when it has a seed.
  static lm::TextOptions choice_options(const Request& r, int i) {
    lm::TextOptions o = r.options;
    if (o.gen.sampler.seed && i > 0) o.gen.sampler.seed = *o.gen.sampler.seed + uint64_t(i);
    return o;
  }

  // Whether a chat answer is read for tool calls and reasoning (its text
  // then keeps its special tokens): the request offered tools, or the
  // template thinks aloud (or writes channels).
  bool parses(const Request& r) const {
    return r.endpoint == Endpoint::chat && (!r.tools.empty() || traits.reasoning);
  }
  static void take_message(const ParsedOutput& m, Completion& c) {
    c.text = m.content;
    c.reasoning = m.reasoning;
    c.tool_calls = m.tool_calls;
    if (!c.tool_calls.empty()) c.finish_reason = "tool_calls";
  }

  // Runs one request: whole (stream = false) or as server-sent events.
  void handle(const httplib::Request& req, httplib::Response& res, Endpoint endpoint) {
    // httplib checks Content-Length, not a chunked body's size.
    if (req.body.size() > opts.max_body_bytes) return send_json(res, error_body(too_large(opts.max_body_bytes)), 413);
    Request r;
    std::vector<int> prompt;
    bool in_reasoning = false;
    try {
      check_nesting(req.body);
      ojson body = ojson::parse(req.body);
      r = parse_request(body, endpoint, opts.defaults);
      if (parses(r)) r.options.skip_special_tokens = false;
      // Rendering shares the parsed template, whose values build lookup
      // indexes lazily: one request renders at a time.
      std::lock_guard lock(prompting);
      prompt = prompt_tokens(r, in_reasoning);
      if (prompt.empty()) throw std::invalid_argument("the prompt encodes to no tokens");
    } catch (const ojson::parse_error& e) {
      return send_json(
          res, error_body(std::string("the request body is not valid JSON: ") + e.what()), 400);
    } catch (const std::exception& e) {
      return send_json(res, error_body(e.what()), 400);
    }
    // A place in the queue, held until the response is written (streams:
    // until the provider finishes).
    if (queued.fetch_add(1) >= opts.max_queue) {
      queued.fetch_sub(1);
      res.set_header("Retry-After", "1");
      return send_json(res,
                       error_body("the server is busy (" + std::to_string(opts.max_queue) +
                                      " requests generating or waiting); retry shortly",
                                  "server_overloaded"),
                       503);
    }
    struct Place {
      std::atomic<int>& n;
      explicit Place(std::atomic<int>& q) : n(q) {}
      Place(const Place&) = delete;
      ~Place() { n.fetch_sub(1); }
    };
    auto place = std::make_shared<Place>(queued);
    auto c = std::make_shared<Completion>();
    c->id = std::string(endpoint == Endpoint::chat ? "chatcmpl-" : "cmpl-") +
            std::to_string(unix_seconds()) + "-" + std::to_string(next_id++);
    c->model = opts.model_id;
    c->created = unix_seconds();
    c->prompt_tokens = int(prompt.size());

    const int fd = connection_socket(req.remote_addr, req.remote_port, req.local_port);
    if (!r.stream) {
      ojson out;
      int generated = 0, cached = 0;
      try {
        Choices choices(sched, r, prompt);
        for (int i = 0; i < r.n; ++i) {
          Completion ci = *c;
          ci.index = i;
          auto result = await(*choices.jobs[size_t(i)], fd, [](const lm::TextResponse&) { return true; });
          // The client has gone; one that only half-closed its side still reads this.
          if (choices.jobs[size_t(i)]->cancelled()) return send_json(res, error_body(kGone), 400);
          ci.text = result.text;
          ci.finish_reason = result.finish_reason;
          ci.completion_tokens = int(result.tokens.size());
          generated += ci.completion_tokens;
          if (r.logprobs)
            ci.logprobs =
                logprobs_json(*lm.tokenizer.tokenizer, result.tokens, result.logprobs, endpoint);
          if (parses(r)) {
            take_message(parse_output(result.text, traits, std::to_string(next_id++), in_reasoning, !r.tools.empty()),
                         ci);
          }
          ojson one = response(ci, endpoint);
          if (i == 0) {
            out = std::move(one);
          } else {
            out["choices"].push_back(one["choices"][0]);
          }
        }
        cached = choices.jobs[0]->cached_tokens();
      } catch (const std::invalid_argument& e) {
        return send_json(res, error_body(e.what()), 400);
      } catch (const std::exception& e) {
        return send_json(res, error_body(e.what(), "server_error"), 500);
      }
      // The prompt counts once, with what the first choice took from the cache.
      c->completion_tokens = generated;
      c->cached_tokens = cached;
      out["usage"] = usage(*c);
      return send_json(res, out);
    }

    // Streaming: the generation runs inside the content provider, so each
    // piece of text goes out as it is made; a client that hangs up stops it.
    auto shared = std::make_shared<Request>(std::move(r));
    auto ids = std::make_shared<std::vector<int>>(std::move(prompt));
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider("text/event-stream", [this, c, shared, ids, endpoint, place, fd, in_reasoning](
                                                              size_t, httplib::DataSink& sink) {
      bool open = true, first = true;
      size_t offset = 0;  // completions' text_offset
      auto emit = [&](const ojson& j) {
        std::string s = sse(j);
        if (open && !sink.write(s.data(), s.size())) open = false;
        return open;
      };
      try {
        Choices choices(sched, *shared, *ids);
        int generated = 0;
        for (int i = 0; i < shared->n && open; ++i) {
          c->index = i;
          first = true;
          offset = 0;
          // With tools offered, or a template that thinks aloud, the text
          // goes out as reasoning, content and tool call deltas.
          std::optional<OutputParser> parsed;
          if (parses(*shared)) parsed.emplace(traits, !shared->tools.empty(), in_reasoning, std::to_string(next_id++));
          auto send = [&](const ojson& delta, const ojson& lp) {
            ojson d = first ? ojson{{"role", "assistant"}, {"content", ""}} : ojson::object();
            d.update(delta);
            ojson ch = delta_chunk(*c, d);
            ch["choices"][0]["logprobs"] = lp;
            first = false;
            return emit(ch);
          };
          // The choices run side by side; each one's chunks go out in turn.
          auto result = await(*choices.jobs[size_t(i)], fd, [&](const lm::TextResponse& t) {
            const bool lp = shared->logprobs && t.logprob;
            ojson l = lp ? logprobs_json(*lm.tokenizer.tokenizer, {t.token}, {*t.logprob}, endpoint, offset)
                         : ojson(nullptr);
            if (parsed) {
              ojson d = parsed->feed(t.text).json();
              return d.empty() && !first && !lp ? open : send(d, l);
            }
            if (t.text.empty() && !first && !lp) return open;
            offset += t.text.size();
            bool ok = emit(chunk(*c, endpoint, t.text, first, "", l));
            first = false;
            return ok;
          });
          if (choices.jobs[size_t(i)]->cancelled()) throw std::runtime_error(kGone);
          c->finish_reason = result.finish_reason;
          c->completion_tokens = int(result.tokens.size());
          if (parsed) {
            if (OutputDelta tail = parsed->finish(); !tail.empty() || first) send(tail.json(), nullptr);
            if (!parsed->message().tool_calls.empty()) c->finish_reason = "tool_calls";
          }
          emit(chunk(*c, endpoint, "", first, c->finish_reason));
          generated += c->completion_tokens;
        }
        c->completion_tokens = generated;
        c->cached_tokens = choices.jobs[0]->cached_tokens();
        if (shared->include_usage) emit(usage_chunk(*c, endpoint));
      } catch (const std::exception& e) {
        emit(error_body(e.what(), "server_error"));
      }
      if (open) {
        static const std::string done = "data: [DONE]\n\n";
        sink.write(done.data(), done.size());
      }
      sink.done();
      return true;
    });
  }
};

Server::Server(lm::Loaded& model, ServerOptions options)
    : impl_(std::make_unique<Impl>(model, std::move(options))) {
  auto& http = impl_->http;
  Impl* s = impl_.get();
  // SO_REUSEADDR only: httplib's default SO_REUSEPORT would let a second
  // server bind the same port and take half of its connections.
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  if (!s->opts.api_key.empty()) {
    http.set_pre_routing_handler([s](const httplib::Request& req, httplib::Response& res) {
      if (req.path.rfind("/v1/", 0) != 0 && req.path != "/chat/completions")
        return httplib::Server::HandlerResponse::Unhandled;
      if (req.get_header_value("Authorization") == "Bearer " + s->opts.api_key) {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      send_json(res,
                error_body("a valid API key is required (Authorization: Bearer ...)",
                           "authentication_error"),
                401);
      // Its body is left unread, so the connection ends with this answer.
      if (req.has_header("Transfer-Encoding") || std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10) > 0)
        res.set_header("Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    });
  }
  http.set_default_headers({{"Access-Control-Allow-Origin", "*"}});
  http.Options(R"(.*)", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    res.set_header("Access-Control-Allow-Headers", "*");
    res.status = 204;
  });
  // The web chat page, open without the API key (it asks for one when /v1/* needs it).
  http.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Content-Security-Policy", std::string(chat_page_csp()));
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_content(chat_page().data(), chat_page().size(), "text/html; charset=utf-8");
  });
  http.Get("/health", [s](const httplib::Request&, httplib::Response& res) {
    // queued: requests generating or waiting; active and waiting: their sequences.
    auto st = s->sched.stats();
    send_json(res, {{"status", "ok"},
                    {"queued", s->queued.load()},
                    {"active", s->sched.active()},
                    {"waiting", s->sched.waiting()},
                    {"decode_steps", st.decode_steps},
                    {"decode_rows", st.decode_rows},
                    {"prefilled_tokens", st.prefilled_tokens},
                    {"memory",
                     {{"active", get_active_memory()},
                      {"peak", get_peak_memory()},
                      {"cache", get_cache_memory()},
                      {"limit", get_memory_limit()}}},
                    {"prompt_cache",
                     {{"entries", st.cache_entries},
                      {"bytes", st.cache_bytes},
                      {"hits", st.cache.hits},
                      {"misses", st.cache.misses},
                      {"reused_tokens", st.cache.reused_tokens},
                      {"evictions", st.cache.evictions}}}});
  });
  http.Get("/v1/models", [s](const httplib::Request&, httplib::Response& res) {
    send_json(res, {{"object", "list"},
                    {"data", ojson::array({{{"id", s->opts.model_id},
                                            {"object", "model"},
                                            {"created", unix_seconds()},
                                            {"owned_by", "uma"}}})}});
  });
  http.Post("/v1/chat/completions", [s](const httplib::Request& req, httplib::Response& res) {
    s->handle(req, res, Endpoint::chat);
  });
  http.Post("/chat/completions", [s](const httplib::Request& req, httplib::Response& res) {
    s->handle(req, res, Endpoint::chat);
  });
  http.Post("/v1/completions", [s](const httplib::Request& req, httplib::Response& res) {
    s->handle(req, res, Endpoint::completion);
  });
  // httplib's own refusals and the connection layer's (http_server.h) as
  // OpenAI errors too; a handler's own error is left as it is.
  http.set_error_handler([s](const httplib::Request& req, httplib::Response& res) {
    if (const HttpRefusal& why = http_refusal(); why.status) {
      res.set_header("Connection", "close");
      return send_json(res, error_body(why.message), why.status);
    }
    if (!res.body.empty() && res.status != 404) return;
    std::string message = "HTTP " + std::to_string(res.status);
    switch (res.status) {
      case 400: message = "malformed HTTP request (its request line, headers or body framing)"; break;
      case 404: message = "no such endpoint: " + req.method + " " + req.path; break;
      case 413: message = too_large(s->opts.max_body_bytes); break;
      case 414: message = "the request target is too long"; break;
      case 415: message = "the request body's Content-Encoding is not supported"; break;
      case 416: message = "Range requests are not supported"; break;
    }
    send_json(res, error_body(message, res.status >= 500 ? "server_error" : "invalid_request_error"), res.status);
  });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr e) {
    std::string what = "an unknown exception";
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      what = x.what();
    } catch (...) {
    }
    send_json(res, error_body("internal error: " + what, "server_error"), 500);
  });
}

Server::~Server() { stop(); }

int Server::bind() {
  auto& o = impl_->opts;
  int port = o.port == 0 ? impl_->http.bind_to_any_port(o.host)
                         : (impl_->http.bind_to_port(o.host, o.port) ? o.port : -1);
  if (port < 0) {
    throw std::runtime_error("[serve] cannot listen on " + o.host + ":" + std::to_string(o.port) +
                             " (in use, or not an address of this machine)");
  }
  impl_->http.widen_backlog();
  impl_->port = port;
  return port;
}

void Server::serve() { impl_->http.listen_after_bind(); }

void Server::stop() {
  if (impl_ && impl_->http.is_running()) impl_->http.stop();
}

}  // namespace uma::serve
