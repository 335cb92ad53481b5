#include "serve_stress/load.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <optional>
#include <random>
#include <thread>

#include "serve_stress/http_client.h"

namespace uma::serve_stress {

using json = nlohmann::json;

namespace {

constexpr int kMaxN = 3;  // choices per request

// A request whose answers are known in advance: greedy, or seeded (choice i
// samples with seed + i, so its reference is choice 0 of a request with that seed).
struct Template {
  std::string name;
  bool chat;
  std::string text;
  int max_tokens;
  json extra;  // stop, response_format, temperature and seed
  bool seeded() const { return extra.contains("seed"); }
};

const std::vector<Template>& templates() {
  static const std::vector<Template> t = {
      {"garden", true, "What does 'garden' mean?", 24, json::object()},
      {"fortune-stop", true, "Give me a fortune.", 40, {{"stop", {" the", "."}}}},
      {"text-garden", false, "The garden", 16, json::object()},
      {"json-sea", true, "Tell me about the sea.", 24, {{"response_format", {{"type", "json_object"}}}}},
      {"text-stone-stop", false, "A stone is", 32, {{"stop", "\n"}}},
      {"seeded-hi", true, "Hi", 20, {{"temperature", 0.9}, {"seed", 11}}},
      {"seeded-river", false, "The river", 20, {{"temperature", 0.8}, {"top_p", 0.9}, {"seed", 5}}},
  };
  return t;
}

const std::vector<std::string>& words() {
  static const std::vector<std::string> w = {"garden", "river", "stone", "politics", "love", "money",
                                             "friend", "war", "the sea", "a fortune", "time", "bread"};
  return w;
}

struct Spec {
  bool chat = true, stream = false, include_usage = false, json_object = false;
  int n = 1, max_tokens = 16;
  std::string text;
  std::vector<std::string> stop;
  json extra = json::object();
  const Template* tmpl = nullptr;
  int hang_up_after = 0;  // > 0: the client goes after this many events

  json body() const {
    json b = {{"model", "uma"}, {"max_tokens", max_tokens}};
    if (chat) {
      b["messages"] = {{{"role", "user"}, {"content", text}}};
    } else {
      b["prompt"] = text;
    }
    if (n != 1) b["n"] = n;
    if (stream) b["stream"] = true;
    if (include_usage) b["stream_options"] = {{"include_usage", true}};
    for (auto& [k, v] : extra.items()) b[k] = v;
    return b;
  }
  std::string describe() const {
    std::string d = std::string(chat ? "chat" : "completion") + (stream ? " streamed" : "") +
                    " n=" + std::to_string(n) + " max_tokens=" + std::to_string(max_tokens);
    if (tmpl) d += " template " + tmpl->name;
    if (!stop.empty()) d += " stop " + json(stop).dump();
    if (json_object) d += " json_object";
    if (hang_up_after) d += " hang-up";
    return d;
  }
};

// One response read back: each choice's text and finish reason, the usage.
struct Answer {
  std::vector<std::string> text, finish;
  std::optional<json> usage;
  int64_t completion_tokens = 0;
  double latency = 0, ttft = -1;
  bool hung_up = false;
  std::string error;  // non-empty: the response failed a check
};

Spec from_template(const Template& t, std::mt19937_64& rng) {
  Spec s;
  s.tmpl = &t;
  s.chat = t.chat;
  s.text = t.text;
  s.max_tokens = t.max_tokens;
  s.extra = t.extra;
  s.n = 1 + int(rng() % kMaxN);
  s.stream = rng() % 2;
  s.include_usage = s.stream && rng() % 2;
  if (t.extra.contains("stop")) {
    const json& st = t.extra["stop"];
    if (st.is_string()) {
      s.stop.push_back(st);
    } else {
      for (auto& x : st) s.stop.push_back(x);
    }
  }
  s.json_object = t.extra.contains("response_format");
  return s;
}

Spec sampled(const LoadOptions& o, std::mt19937_64& rng) {
  auto uniform = [&](double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); };
  Spec s;
  s.chat = rng() % 3 != 0;
  const std::string& w = words()[rng() % words().size()];
  s.text = s.chat ? (rng() % 2 ? "What does '" + w + "' mean?" : "Tell me about " + w + ".") : "The " + w;
  s.max_tokens = 1 + int(rng() % uint64_t(std::max(1, o.max_tokens)));
  const int ns[] = {1, 1, 1, 2, 3};
  s.n = ns[rng() % 5];
  s.stream = rng() % 2;
  s.include_usage = s.stream && rng() % 2;
  s.extra["temperature"] = std::round(uniform(0.5, 1.2) * 100) / 100;
  if (rng() % 2) s.extra["top_p"] = std::round(uniform(0.5, 1.0) * 100) / 100;
  if (rng() % 2) s.extra["seed"] = int(rng() % 1000);
  if (rng() % 4 == 0) {
    s.stop = {words()[rng() % words().size()], "."};
    s.extra["stop"] = s.stop;
  }
  if (rng() % 6 == 0) {
    s.json_object = true;
    s.extra["response_format"] = {{"type", "json_object"}};
  }
  if (s.stream && uniform(0, 1) < o.hang_up_rate) s.hang_up_after = 1 + int(rng() % 4);
  return s;
}

std::string check_one(const json& j, bool cond, const std::string& what) {
  return cond ? "" : what + ": " + j.dump().substr(0, 300);
}

// Reads the whole (non-streamed) response's choices.
std::string read_whole(const Spec& s, const json& j, Answer& a) {
  const char* object = s.chat ? "chat.completion" : "text_completion";
  if (!j.is_object() || j.value("object", "") != object) return check_one(j, false, "not a " + std::string(object));
  if (!j.contains("choices") || !j["choices"].is_array() || int(j["choices"].size()) != s.n) {
    return check_one(j, false, "not " + std::to_string(s.n) + " choices");
  }
  for (int i = 0; i < s.n; ++i) {
    const json& c = j["choices"][size_t(i)];
    if (c.value("index", -1) != i) return check_one(c, false, "choice index");
    const json* text = nullptr;
    if (s.chat) {
      if (!c.contains("message") || c["message"].value("role", "") != "assistant") {
        return check_one(c, false, "no assistant message");
      }
      text = &c["message"]["content"];
    } else {
      text = c.contains("text") ? &c["text"] : nullptr;
    }
    if (!text || !text->is_string()) return check_one(c, false, "no text");
    if (!c.contains("finish_reason") || !c["finish_reason"].is_string()) return check_one(c, false, "no finish_reason");
    a.text.push_back(*text);
    a.finish.push_back(c["finish_reason"]);
  }
  if (!j.contains("usage")) return check_one(j, false, "no usage");
  a.usage = j["usage"];
  return "";
}

// Reads a stream's events: chunks of one choice after another, each choice's
// role first (chat) and its finish_reason last, the usage chunk, [DONE].
std::string read_stream(const Spec& s, const std::vector<std::string>& events, Answer& a) {
  if (events.empty() || events.back() != "[DONE]") return "the stream does not end with [DONE]";
  const char* object = s.chat ? "chat.completion.chunk" : "text_completion";
  std::string id;
  int index = -1;
  bool finished = true;
  for (size_t e = 0; e + 1 < events.size(); ++e) {
    if (events[e] == "[DONE]") return "[DONE] before the end";
    json j = json::parse(events[e], nullptr, false);
    if (j.is_discarded()) return "an event is not JSON: " + events[e].substr(0, 200);
    if (j.contains("error")) return check_one(j, false, "an error event");
    if (j.value("object", "") != object) return check_one(j, false, "not a " + std::string(object));
    if (id.empty()) id = j.value("id", "");
    if (j.value("id", "") != id || id.empty()) return check_one(j, false, "chunk ids differ");
    if (j.contains("usage") && !j["usage"].is_null()) {
      if (!s.include_usage || e + 2 != events.size() || !j["choices"].empty()) {
        return check_one(j, false, "a usage chunk out of place");
      }
      a.usage = j["usage"];
      continue;
    }
    if (!j.contains("choices") || j["choices"].size() != 1) return check_one(j, false, "not one choice");
    const json& c = j["choices"][0];
    int i = c.value("index", -1);
    if (i != index) {
      if (!finished || i != index + 1) return check_one(j, false, "choices interleaved or skipped");
      index = i;
      finished = false;
      a.text.emplace_back();
      a.finish.emplace_back();
      if (s.chat && (!c.contains("delta") || c["delta"].value("role", "") != "assistant")) {
        return check_one(j, false, "a choice's first chunk has no assistant role");
      }
    } else if (finished) {
      return check_one(j, false, "a chunk after its choice's finish_reason");
    }
    if (s.chat) {
      const json& d = c.value("delta", json::object());
      if (d.contains("content") && !d["content"].is_null()) {
        if (!d["content"].is_string()) return check_one(j, false, "content not a string");
        a.text.back() += d["content"].get<std::string>();
      }
    } else {
      if (!c.contains("text") || !c["text"].is_string()) return check_one(j, false, "no text");
      a.text.back() += c["text"].get<std::string>();
    }
    if (c.contains("finish_reason") && !c["finish_reason"].is_null()) {
      if (!c["finish_reason"].is_string()) return check_one(j, false, "finish_reason not a string");
      a.finish.back() = c["finish_reason"];
      finished = true;
    }
  }
  if (!finished || index + 1 != s.n) return "not " + std::to_string(s.n) + " finished choices";
  if (s.include_usage && !a.usage) return "no usage chunk";
  return "";
}

// The checks every answer passes, then its template's reference.
std::string check_answer(const Spec& s, Answer& a, const json& refs) {
  if (int(a.text.size()) != s.n) return "not " + std::to_string(s.n) + " choices";
  bool all_length = true;
  for (int i = 0; i < s.n; ++i) {
    const std::string& f = a.finish[size_t(i)];
    const std::string& t = a.text[size_t(i)];
    if (f != "stop" && f != "length") return "choice " + std::to_string(i) + " finish_reason '" + f + "'";
    all_length = all_length && f == "length";
    for (auto& st : s.stop) {
      if (t.find(st) != std::string::npos) return "choice " + std::to_string(i) + " holds its stop string";
    }
    // A stop string may cut a json_object answer short (finish_reason stop too).
    if (s.json_object && f == "stop" && s.stop.empty()) {
      json parsed = json::parse(t, nullptr, false);
      if (parsed.is_discarded() || !parsed.is_object()) return "a json_object answer does not parse: " + t;
    }
  }
  if (a.usage) {
    const json& u = *a.usage;
    if (!u.contains("prompt_tokens") || !u.contains("completion_tokens") || !u.contains("total_tokens")) {
      return "usage lacks a count: " + u.dump();
    }
    int64_t p = u["prompt_tokens"], c = u["completion_tokens"], total = u["total_tokens"];
    if (p <= 0 || c < 0 || total != p + c || c > int64_t(s.n) * s.max_tokens) return "usage does not add up: " + u.dump();
    if (all_length && c != int64_t(s.n) * s.max_tokens) return "all choices hit max_tokens, yet " + u.dump();
    a.completion_tokens = c;
  }
  if (!s.tmpl) return "";
  const json& ref = refs[s.tmpl->name];
  int64_t want_tokens = 0;
  for (int i = 0; i < s.n; ++i) {
    const json& r = ref[size_t(s.tmpl->seeded() ? i : 0)];
    if (a.text[size_t(i)] != r["text"].get<std::string>() || a.finish[size_t(i)] != r["finish"]) {
      return "choice " + std::to_string(i) + " differs from the reference: '" + a.text[size_t(i)] + "' (" +
             a.finish[size_t(i)] + ") vs '" + r["text"].get<std::string>() + "' (" + r["finish"].get<std::string>() +
             ")";
    }
    want_tokens += r["tokens"].get<int64_t>();
  }
  if (a.usage && a.completion_tokens != want_tokens) {
    return "completion_tokens " + std::to_string(a.completion_tokens) + ", the references made " +
           std::to_string(want_tokens);
  }
  return "";
}

Answer send(const LoadOptions& o, const Spec& s, const json& refs) {
  Answer a;
  const std::string path = s.chat ? "/v1/chat/completions" : "/v1/completions";
  Connection c(o.port);
  const double t0 = now_seconds();
  if (!c.ok() || !c.send(http_request("POST", path, s.body().dump()))) {
    a.error = "cannot connect or send";
    return a;
  }
  std::vector<std::string> events;
  std::string rest;
  BodyReader reader;
  if (s.stream) {
    reader = [&](std::string_view piece) {
      for (auto& e : sse_events(piece, rest)) {
        if (a.ttft < 0) a.ttft = now_seconds() - t0;
        events.push_back(std::move(e));
      }
      return !(s.hang_up_after && int(events.size()) >= s.hang_up_after && events.back() != "[DONE]");
    };
  }
  HttpResponse r = c.read_response(o.timeout_s, reader);
  a.latency = now_seconds() - t0;
  if (r.stopped) {
    a.hung_up = true;
    return a;
  }
  if (!r.error.empty()) {
    a.error = "reading the response: " + r.error;
  } else if (r.status != 200) {
    a.error = "status " + std::to_string(r.status) + ": " + r.body.substr(0, 300);
  } else if (s.stream) {
    if (r.header("content-type").rfind("text/event-stream", 0) != 0) a.error = "not text/event-stream";
    if (a.error.empty()) a.error = read_stream(s, events, a);
  } else {
    json j = json::parse(r.body, nullptr, false);
    a.error = j.is_discarded() ? "the body is not JSON: " + r.body.substr(0, 300) : read_whole(s, j, a);
  }
  if (a.error.empty()) a.error = check_answer(s, a, refs);
  return a;
}

}  // namespace

double LoadReport::percentile(std::vector<double> xs, double p) {
  if (xs.empty()) return 0;
  std::sort(xs.begin(), xs.end());
  size_t k = size_t(std::ceil(p / 100 * double(xs.size())));
  return xs[std::min(xs.size() - 1, k == 0 ? 0 : k - 1)];
}

std::string LoadReport::summary() const {
  char line[512];
  std::snprintf(line, sizeof line,
                "%d requests, %d failed, %d hung up, %d checked against references; %.1f tokens/s; "
                "latency p50 %.3f s p99 %.3f s; TTFT p50 %.3f s p99 %.3f s; %.1f s",
                requests, failures, hung_up, reference_checked, wall_s > 0 ? double(completion_tokens) / wall_s : 0,
                percentile(latency_s, 50), percentile(latency_s, 99), percentile(ttft_s, 50), percentile(ttft_s, 99),
                wall_s);
  return line;
}

json LoadReport::to_json() const {
  return {{"requests", requests},
          {"failures", failures},
          {"hung_up", hung_up},
          {"reference_checked", reference_checked},
          {"completion_tokens", completion_tokens},
          {"seconds", wall_s},
          {"tokens_per_s", wall_s > 0 ? double(completion_tokens) / wall_s : 0},
          {"latency_s", {{"p50", percentile(latency_s, 50)}, {"p99", percentile(latency_s, 99)}}},
          {"ttft_s", {{"p50", percentile(ttft_s, 50)}, {"p99", percentile(ttft_s, 99)}}},
          {"errors", errors}};
}

LoadReport run_load(const LoadOptions& o) {
  LoadReport rep;
  std::mutex m;
  auto record = [&](const Spec& s, const Answer& a, const std::string& who) {
    std::lock_guard lk(m);
    if (a.hung_up) {
      ++rep.hung_up;
      return;
    }
    if (!a.error.empty()) {
      ++rep.failures;
      if (rep.errors.size() < 20) rep.errors.push_back(who + " (" + s.describe() + "): " + a.error);
      return;
    }
    ++rep.requests;
    rep.completion_tokens += a.completion_tokens;
    rep.latency_s.push_back(a.latency);
    if (a.ttft >= 0) rep.ttft_s.push_back(a.ttft);
    if (s.tmpl) ++rep.reference_checked;
  };
  // The references: each template alone, one choice per request.
  rep.references = json::object();
  for (auto& t : templates()) {
    json& refs = rep.references[t.name] = json::array();
    for (int i = 0; i < (t.seeded() ? kMaxN : 1); ++i) {
      std::mt19937_64 rng(0);
      Spec s = from_template(t, rng);
      s.n = 1, s.stream = false, s.include_usage = false;
      s.tmpl = nullptr;  // checked as any answer, then kept
      if (t.seeded()) s.extra["seed"] = t.extra["seed"].get<int>() + i;
      Answer a = send(o, s, rep.references);
      if (a.error.empty() && a.usage) {
        refs.push_back({{"text", a.text[0]}, {"finish", a.finish[0]}, {"tokens", (*a.usage)["completion_tokens"]}});
      } else {
        if (a.error.empty()) a.error = "no usage";
        record(s, a, "reference " + t.name);
        return rep;
      }
    }
  }
  const double t0 = now_seconds(), end = t0 + o.seconds;
  std::atomic<bool> warmed{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < o.clients; ++c) {
    clients.emplace_back([&, c] {
      std::mt19937_64 rng(o.seed * 1000003 + uint64_t(c));
      for (int k = 0; now_seconds() < end; ++k) {
        const bool greedy = rng() % 5 < 2;
        Spec s = greedy ? from_template(templates()[rng() % templates().size()], rng) : sampled(o, rng);
        Answer a = send(o, s, rep.references);
        record(s, a, "client " + std::to_string(c) + " request " + std::to_string(k));
        if (c == 0 && o.after_warmup && !warmed && now_seconds() - t0 >= o.warmup_s) {
          warmed = true;
          o.after_warmup();
        }
      }
    });
  }
  for (double next = t0 + 10; o.log && now_seconds() < end; next += 10) {
    while (now_seconds() < std::min(next, end)) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::lock_guard lk(m);
    o.log("  " + std::to_string(int(now_seconds() - t0)) + " s: " + std::to_string(rep.requests) + " requests, " +
          std::to_string(rep.failures) + " failed");
  }
  for (auto& t : clients) t.join();
  rep.wall_s = now_seconds() - t0;
  return rep;
}

}  // namespace uma::serve_stress
