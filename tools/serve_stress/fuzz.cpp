#include "serve_stress/fuzz.h"

#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <thread>

#include "serve_stress/http_client.h"

namespace uma::serve_stress {

using json = nlohmann::json;

namespace {

template <class T>
const T& pick(std::mt19937_64& rng, const std::vector<T>& xs) {
  return xs[rng() % xs.size()];
}

// A value nested `depth` deep, as text (json would recurse to dump it):
// arrays, objects, or a JSON schema of objects within objects.
std::string nested(int depth, int kind) {
  static const char* open[] = {"[", "{\"a\":", "{\"type\":\"object\",\"properties\":{\"a\":"};
  static const char* close[] = {"]", "}", "}}"};
  std::string s;
  for (int i = 0; i < depth; ++i) s += open[kind];
  s += kind == 2 ? "{\"type\":\"integer\"}" : "1";
  for (int i = 0; i < depth; ++i) s += close[kind];
  return s;
}

// A value of some unexpected kind, as JSON text.
std::string weird_value(std::mt19937_64& rng) {
  static const std::vector<std::string> small = {
      "null", "true", "false", "0", "-1", "1", "0.5", "-0.0", "1e308", "-1e308", "1e400", "18446744073709551615",
      "18446744073709551616", "-9223372036854775808", "9223372036854775807", "2147483648", "1e-320", "\"\"",
      "\"x\"", "\"Hi\"", "\"\\u0000\"", "\"\\ud800\"", "\"\\uffff\"", "[]", "[1,2,3]", "[\"a\"]", "[null]", "{}",
      "{\"type\":\"text\"}", "{\"role\":\"user\"}", "{\"type\":\"json_schema\"}", "[{}]", "[[]]", "\"json_object\"",
      "{\"type\":\"function\",\"function\":{}}", "\"none\"", "\"auto\"", "16", "17", "21", "-2.5", "3.0"};
  switch (rng() % 10) {
    case 0:
      return "\"" + std::string(size_t(1) << (10 + rng() % 11), 'a') + "\"";  // 1 KiB .. 1 MiB
    case 1: {
      std::string a = "[";
      const int n = int(1000 + rng() % 50000);
      for (int i = 0; i < n; ++i) a += (i ? ",\"" : "\"") + std::to_string(i % 97) + "\"";
      return a + "]";
    }
    case 2:
      return nested(int(pick(rng, std::vector<int>{8, 64, 600, 5000, 100000})), int(rng() % 3));
    default:
      return pick(rng, small);
  }
}

const std::vector<std::string>& fields() {
  static const std::vector<std::string> f = {
      "/model", "/messages", "/prompt", "/max_tokens", "/max_completion_tokens", "/temperature", "/top_p",
      "/top_k", "/min_p", "/seed", "/stop", "/repetition_penalty", "/repetition_context_size",
      "/presence_penalty", "/frequency_penalty", "/logit_bias", "/stream", "/stream_options", "/n", "/logprobs",
      "/top_logprobs", "/tools", "/tool_choice", "/response_format", "/grammar", "/messages/0",
      "/messages/0/content", "/messages/0/role", "/messages/0/tool_calls", "/messages/0/content/0",
      "/response_format/type", "/response_format/json_schema", "/response_format/json_schema/schema",
      "/response_format/json_schema/strict", "/stream_options/include_usage", "/logit_bias/5", "/tools/0",
      "/tools/0/function", "/stop/0", "/prompt/0", "/messages/1", "/messages/0/name"};
  return f;
}

// A valid body and its path; generation kept short.
std::pair<json, std::string> base_body(std::mt19937_64& rng) {
  const json user = {{"role", "user"}, {"content", "Hi"}};
  switch (rng() % 7) {
    case 0:
      return {{{"model", "uma"}, {"messages", {user}}, {"max_tokens", 4}}, "/v1/chat/completions"};
    case 1:
      return {{{"messages", {{{"role", "system"}, {"content", "Be brief."}}, user}}, {"max_tokens", 3}, {"stream", true}},
              "/v1/chat/completions"};
    case 2:
      return {{{"prompt", "The garden"}, {"max_tokens", 4}}, "/v1/completions"};
    case 3:
      return {{{"prompt", {"The river"}}, {"max_tokens", 3}, {"n", 2}, {"stream", true},
               {"stream_options", {{"include_usage", true}}}},
              "/v1/completions"};
    case 4:
      return {{{"messages", {user}},
               {"max_tokens", 6},
               {"response_format",
                {{"type", "json_schema"},
                 {"json_schema",
                  {{"name", "x"}, {"schema", {{"type", "object"}, {"properties", {{"a", {{"type", "integer"}}}}}}}}}}}},
              "/v1/chat/completions"};
    case 5:
      return {{{"messages", {user}},
               {"max_tokens", 4},
               {"tools", {{{"type", "function"}, {"function", {{"name", "f"}, {"parameters", {{"type", "object"}}}}}}}}},
              "/v1/chat/completions"};
    default:
      return {{{"messages", {user}}, {"max_tokens", 3}, {"logprobs", true}, {"top_logprobs", 2}, {"stop", "x"}},
              "/chat/completions"};
  }
}

// A text-level mutation of a serialized body.
std::string mutate_text(std::mt19937_64& rng, std::string s, std::string& name) {
  static const std::vector<std::string> junk = {"\xff", "\xc3", "\xed\xa0\x80", std::string(1, '\0'), "\xf4\x90\x80\x80",
                                                "\xc0\xaf", "}", "{", "\"", "\\", ",", ":", "\x7f", "\n"};
  const size_t at = s.empty() ? 0 : rng() % s.size();
  switch (rng() % 8) {
    case 0:
      name += " truncated at " + std::to_string(at);
      return s.substr(0, at);
    case 1:
      name += " byte " + std::to_string(at) + " flipped";
      if (!s.empty()) s[at] = char(s[at] ^ char(1 + rng() % 255));
      return s;
    case 2: {
      const std::string& j = pick(rng, junk);
      name += " junk inserted at " + std::to_string(at);
      return s.insert(at, j);
    }
    case 3: {
      // Invalid UTF-8 inside a string value.
      size_t q = s.find("Hi");
      if (q == std::string::npos) q = s.find("The");
      name += " invalid UTF-8 in a string";
      return q == std::string::npos ? s : s.insert(q + 1, pick(rng, std::vector<std::string>{"\xff", "\xc3", "\xed\xa0\x80"}));
    }
    case 4:
      name += " duplicate keys";
      return s.empty() ? s : s.insert(1, "\"max_tokens\":\"a\",\"n\":99,\"stream\":1,");
    case 5:
      name += " whole body replaced";
      return pick(rng, std::vector<std::string>{"", "null", "[]", "\"str\"", "123", " ", "{}", "{\"messages\":[]}",
                                                "{\"prompt\":\"\"}", "\xef\xbb\xbf{}", "{\"a\":1}{\"b\":2}"});
    case 6:
      name += " char removed at " + std::to_string(at);
      return s.empty() ? s : s.erase(at, 1);
    default:
      name += " text doubled";
      return s + s;
  }
}

FuzzCase json_case(std::mt19937_64& rng) {
  auto [body, path] = base_body(rng);
  FuzzCase c;
  c.name = "body mutation of " + path + ":";
  // Values go in as markers, replaced in the text at the end: a deeply
  // nested value would make json recurse past the stack to dump it.
  std::vector<std::string> values;
  int text_mutations = 0;
  const int n = 1 + int(rng() % 3);
  for (int i = 0; i < n; ++i) {
    const int kind = int(rng() % 8);
    if (kind < 5) {
      const std::string& f = pick(rng, fields());
      std::string v = weird_value(rng);
      try {
        body[json::json_pointer(f)] = "@@FUZZ" + std::to_string(values.size()) + "@@";
      } catch (const json::exception&) {
        continue;  // the field's parent is not an object or array here
      }
      values.push_back(v);
      c.name += " " + f + "=" + (v.size() > 40 ? v.substr(0, 20) + "...(" + std::to_string(v.size()) + " bytes)" : v);
    } else if (kind == 5 && body.is_object() && !body.empty()) {
      auto it = body.begin();
      std::advance(it, long(rng() % body.size()));
      c.name += " -" + it.key();
      body.erase(it);
    } else {
      ++text_mutations;
    }
  }
  std::string text = body.dump();
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string marker = "\"@@FUZZ" + std::to_string(i) + "@@\"";
    if (size_t at = text.find(marker); at != std::string::npos) text.replace(at, marker.size(), values[i]);
  }
  for (int i = 0; i < text_mutations; ++i) text = mutate_text(rng, text, c.name);
  if (rng() % 10 == 0) {
    path = path == "/v1/completions" ? "/v1/chat/completions" : "/v1/completions";
    c.name += " sent to " + path;
  }
  c.bytes = http_request("POST", path, text);
  return c;
}

std::string small_chat() { return R"({"messages":[{"role":"user","content":"Hi"}],"max_tokens":2})"; }

// Malformed HTTP around a small valid body.
FuzzCase http_case(std::mt19937_64& rng) {
  const std::string body = small_chat();
  const std::string path = "/v1/chat/completions";
  const std::string cl = "Content-Length: " + std::to_string(body.size()) + "\r\n";
  const std::string host = "Host: 127.0.0.1\r\nConnection: close\r\n";
  auto req = [&](const std::string& line, const std::string& headers, const std::string& b) {
    return line + "\r\n" + headers + "\r\n" + b;
  };
  FuzzCase c;
  switch (rng() % 22) {
    case 0: {
      const std::string m = pick(rng, std::vector<std::string>{"FOO", "GET", "PUT", "DELETE", "PATCH", "post", "CONNECT",
                                                               "TRACE", "PRI", "G\x01T", "POST POST"});
      c.name = "method " + m;
      c.bytes = req(m + " " + path + " HTTP/1.1", host + cl, body);
      break;
    }
    case 1: {
      const std::string p = pick(rng, std::vector<std::string>{
          "/v1/chat/completions/../../etc/passwd", "/%zz", "/%00", "*", "http://127.0.0.1/v1/chat/completions",
          "/v1/chat/completions?x=" + std::string(9000, 'q'), "/" + std::string(20000, 'a'), "", "/v1//completions",
          "/v1/chat/completions#frag", "/\xff\xfe", "/v1/models/../health"});
      c.name = "path " + p.substr(0, 40) + (p.size() > 40 ? "... (" + std::to_string(p.size()) + " bytes)" : "");
      c.bytes = req("POST " + p + " HTTP/1.1", host + cl, body);
      break;
    }
    case 2: {
      const std::string v = pick(rng, std::vector<std::string>{"HTTP/1.2", "HTTP/2", "HTTP/0.9", "FOO", "", "HTTP/1.1 x",
                                                               "http/1.1", "HTTP/1.0"});
      c.name = "version '" + v + "'";
      c.bytes = req("POST " + path + " " + v, host + cl, body);
      c.half_close = true;
      break;
    }
    case 3:
      c.name = "a 100 KiB header";
      c.bytes = req("POST " + path + " HTTP/1.1", host + cl + "X-Big: " + std::string(100 << 10, 'b') + "\r\n", body);
      break;
    case 4: {
      std::string many;
      for (int i = 0; i < 5000; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
      c.name = "5000 headers";
      c.bytes = req("POST " + path + " HTTP/1.1", host + cl + many, body);
      break;
    }
    case 5: {
      const std::string h = pick(rng, std::vector<std::string>{"NoColon\r\n", ": empty-name\r\n", "Bad Name: x\r\n",
                                                               std::string("X-Nul: a\0b\r\n", 13), "X-Fold: a\r\n folded\r\n",
                                                               "X-Bin: \xff\xfe\r\n", "\r\n\r\n"});
      c.name = "header line '" + h.substr(0, h.size() - 2) + "'";
      c.bytes = req("POST " + path + " HTTP/1.1", host + cl + h, body);
      c.half_close = true;
      break;
    }
    case 6: {
      char size[32];
      std::snprintf(size, sizeof size, "%zx", body.size());
      c.name = "chunked body";
      c.bytes = req("POST " + path + " HTTP/1.1", host + "Transfer-Encoding: chunked\r\n",
                    std::string(size) + ";ext=1\r\n" + body + "\r\n0\r\n\r\n");
      break;
    }
    case 7: {
      const std::string bad = pick(rng, std::vector<std::string>{"zz\r\nabc\r\n0\r\n\r\n", "ffffffffffffffff\r\nabc",
                                                                 "-5\r\nabc\r\n0\r\n\r\n", "5\r\nab", "3\r\nabcXY0\r\n\r\n",
                                                                 "10000000000000000000\r\n"});
      c.name = "bad chunked body";
      c.bytes = req("POST " + path + " HTTP/1.1", host + "Transfer-Encoding: chunked\r\n", bad);
      c.half_close = true;
      break;
    }
    case 8:
      c.name = "Content-Length larger than the body";
      c.bytes = req("POST " + path + " HTTP/1.1", host + "Content-Length: " + std::to_string(body.size() + 50) + "\r\n", body);
      c.half_close = true;
      break;
    case 9:
      c.name = "Content-Length smaller than the body";
      c.bytes = req("POST " + path + " HTTP/1.1", host + "Content-Length: 10\r\n", body);
      break;
    case 10: {
      const std::string v = pick(rng, std::vector<std::string>{"-1", "abc", "1e3", "99999999999999999999", " 5", "0x10",
                                                               "18446744073709551615"});
      c.name = "Content-Length '" + v + "'";
      c.bytes = req("POST " + path + " HTTP/1.1", host + "Content-Length: " + v + "\r\n", body);
      c.half_close = true;
      break;
    }
    case 11:
      c.name = "two Content-Lengths";
      c.bytes = req("POST " + path + " HTTP/1.1", host + cl + "Content-Length: 3\r\n", body);
      c.half_close = true;
      break;
    case 12:
      c.name = "Content-Length and chunked";
      c.bytes = req("POST " + path + " HTTP/1.1", host + cl + "Transfer-Encoding: chunked\r\n", body);
      c.half_close = true;
      break;
    case 13:
      c.name = "a body over the 16 MiB limit";
      c.bytes = req("POST " + path + " HTTP/1.1", host + "Content-Length: " + std::to_string(20u << 20) + "\r\n", body);
      c.half_close = true;
      break;
    case 14: {
      const std::string t = pick(rng, std::vector<std::string>{
          "text/plain", "multipart/form-data; boundary=xyz", "multipart/form-data", "application/x-www-form-urlencoded",
          "application/json; charset=latin1", "", "image/png"});
      std::string b = rng() % 2 ? body : "--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n" + body + "\r\n--xyz--\r\n";
      if (t == "application/x-www-form-urlencoded" && rng() % 2) b += std::string(16 << 10, ' ');
      c.name = "content type '" + t + "'";
      c.bytes = req("POST " + path + " HTTP/1.1", host + (t.empty() ? "" : "Content-Type: " + t + "\r\n") +
                        "Content-Length: " + std::to_string(b.size()) + "\r\n",
                    b);
      break;
    }
    case 15: {
      const std::string e = pick(rng, std::vector<std::string>{"gzip", "br", "deflate", "x-unknown", "identity"});
      c.name = "Content-Encoding " + e;
      c.bytes = req("POST " + path + " HTTP/1.1", host + cl + "Content-Encoding: " + e + "\r\n", body);
      break;
    }
    case 16:
      c.name = "Range on a completion";
      c.bytes = req("POST " + path + " HTTP/1.1", host + cl + "Range: bytes=" + pick(rng, std::vector<std::string>{"0-5", "x", "5-1", "0-0,2-3"}) + "\r\n", body);
      break;
    case 17:
      c.name = "Expect: 100-continue";
      c.bytes = req("POST " + path + " HTTP/1.1", host + cl + "Expect: 100-continue\r\n", body);
      break;
    case 18: {
      std::string g;
      const int n = int(1 + rng() % 3000);
      for (int i = 0; i < n; ++i) g += char(rng() % 256);
      c.name = "binary garbage";
      c.bytes = g;
      c.half_close = true;
      break;
    }
    case 19:
      c.name = "no request (the client only half-closes)";
      c.half_close = true;
      c.may_close = true;
      break;
    case 20:
      c.name = "two requests pipelined";
      c.bytes = req("POST " + path + " HTTP/1.1", "Host: x\r\n" + cl, body) + req("GET /health HTTP/1.1", host, "");
      break;
    default: {
      const std::string m = pick(rng, std::vector<std::string>{"HEAD /health", "OPTIONS /v1/chat/completions",
                                                               "GET /v1/models", "GET /nowhere", "HEAD /v1/completions",
                                                               "GET /health?x=%ff"});
      c.name = m;
      c.head = m.rfind("HEAD", 0) == 0;
      c.bytes = req(m + " HTTP/1.1", host, "");
      break;
    }
  }
  return c;
}

}  // namespace

FuzzCase make_case(std::mt19937_64& rng, int k) {
  FuzzCase c = rng() % 5 < 3 ? json_case(rng) : http_case(rng);
  c.name = "case " + std::to_string(k) + ": " + c.name;
  return c;
}

std::string check_answer(const FuzzCase& c, int status, const std::string& content_type, const std::string& body,
                         const std::string& read_error) {
  if (status == 0) {
    if (c.may_close && read_error == "connection closed") return "";
    return "no answer (" + read_error + ")";
  }
  if (!read_error.empty()) return "status " + std::to_string(status) + " but " + read_error;
  if (c.head) return status >= 200 && status < 500 ? "" : "HEAD answered " + std::to_string(status);
  auto error_object = [&](const json& j) {
    return j.is_object() && j.contains("error") && j["error"].is_object() && j["error"].contains("message") &&
           j["error"]["message"].is_string() && !j["error"]["message"].get<std::string>().empty() &&
           j["error"].contains("type") && j["error"]["type"].is_string();
  };
  if (status >= 200 && status < 300) {
    if (status == 204) return "";
    if (content_type.rfind("application/json", 0) == 0) {
      json j = json::parse(body, nullptr, false);
      if (j.is_discarded() || !j.is_object()) return "status " + std::to_string(status) + " with a body that is not a JSON object";
      if (j.contains("error")) return "status " + std::to_string(status) + " with an error body";
      return "";
    }
    if (content_type.rfind("text/event-stream", 0) == 0) {
      std::string rest;
      auto events = sse_events(body, rest);
      if (events.empty() || events.back() != "[DONE]") return "a stream that does not end with [DONE]";
      bool finished = false, failed = false;
      for (size_t i = 0; i + 1 < events.size(); ++i) {
        json j = json::parse(events[i], nullptr, false);
        if (j.is_discarded() || !j.is_object()) return "a stream event that is not JSON: " + events[i].substr(0, 100);
        if (j.contains("error") && !error_object(j)) return "a stream error event that is not an error object";
        failed = failed || j.contains("error");
        const json& ch = j.value("choices", json::array());
        finished = finished || (!ch.empty() && ch[0].is_object() && ch[0].contains("finish_reason") &&
                                !ch[0]["finish_reason"].is_null());
      }
      return finished || failed ? "" : "a stream with neither a finish_reason nor an error";
    }
    return "status " + std::to_string(status) + " with content type '" + content_type + "'";
  }
  if (status >= 400 && status < 600) {
    if (content_type.rfind("application/json", 0) != 0) {
      return "status " + std::to_string(status) + " with content type '" + content_type + "': " + body.substr(0, 100);
    }
    json j = json::parse(body, nullptr, false);
    if (!error_object(j)) return "status " + std::to_string(status) + " without an error object: " + body.substr(0, 200);
    return "";
  }
  return "status " + std::to_string(status);
}

std::string FuzzReport::summary() const {
  std::string s = std::to_string(cases) + " cases, " + std::to_string(failures) + " failed, " +
                  std::to_string(health_probes) + " health probes, " + std::to_string(int(wall_s)) + " s; statuses";
  for (auto& [k, v] : statuses) s.append(" ").append(std::to_string(k)).append(":").append(std::to_string(v));
  return s;
}

namespace {

// GET /health: "" when it answers 200 {"status": "ok"}, else why not.
std::string probe_health(int port, double timeout_s, json* out = nullptr) {
  Connection c(port);
  if (!c.ok() || !c.send(http_request("GET", "/health"))) return "cannot connect";
  HttpResponse r = c.read_response(timeout_s);
  if (r.status != 200) return "/health: status " + std::to_string(r.status) + " " + r.error;
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || j.value("status", "") != "ok") return "/health: " + r.body.substr(0, 200);
  if (out) *out = j;
  return "";
}

}  // namespace

FuzzReport run_fuzz(const FuzzOptions& o) {
  FuzzReport rep;
  std::mt19937_64 rng(o.seed);
  const double t0 = now_seconds();
  auto fail = [&](const std::string& why) {
    ++rep.failures;
    if (rep.errors.size() < 20) rep.errors.push_back(why);
  };
  for (int k = 0; k < o.cases; ++k) {
    FuzzCase c = make_case(rng, k);
    Connection conn(o.port);
    ++rep.cases;
    if (!conn.ok()) {
      fail(c.name + ": cannot connect");
      continue;
    }
    // The server may answer and close before it has read everything (a
    // body too large, say): a failed send is not a failure in itself.
    conn.send(c.bytes);
    if (c.half_close) conn.shutdown_write();
    const double t = now_seconds();
    HttpResponse r = conn.read_response(o.timeout_s, {}, c.head);
    if (o.log && now_seconds() - t > 2) {
      o.log("  slow: " + c.name.substr(0, 200) + ": " + std::to_string(now_seconds() - t) + " s");
    }
    ++rep.statuses[r.status];
    std::string why = check_answer(c, r.status, r.header("content-type"), r.body, r.error);
    if (!why.empty()) fail(c.name + ": " + why);
    if ((k + 1) % o.batch == 0 || k + 1 == o.cases) {
      ++rep.health_probes;
      std::string h = probe_health(o.port, o.timeout_s);
      if (!h.empty()) fail("after case " + std::to_string(k) + ": " + h);
      if (o.log) o.log("  " + std::to_string(k + 1) + " cases, " + std::to_string(rep.failures) + " failed");
    }
  }
  // Nothing left behind: every request's place is given back.
  json h;
  const double until = now_seconds() + o.timeout_s;
  while (probe_health(o.port, o.timeout_s, &h).empty() && (h["queued"] != 0 || h["active"] != 0) &&
         now_seconds() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (h.empty() || h["queued"] != 0 || h["active"] != 0) fail("the server did not settle: " + h.dump());
  rep.wall_s = now_seconds() - t0;
  return rep;
}

}  // namespace uma::serve_stress
