#include "uma/hub/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "uma/core/io/file.h"

namespace uma::hub {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

struct Transfer {
  CURL* curl;
  HttpResponse* resp;
  const BodySink* sink;
  bool aborted = false;
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    t->resp->headers.clear();  // a new response (after a redirect)
  } else if (size_t colon = line.find(':'); colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    t->resp->headers[name] = trim(line.substr(colon + 1));
  }
  return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  long status = 0;  // of the response whose body this is (a redirect's or an error's goes to `body`)
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  t->resp->status = status;
  if (t->sink && *t->sink && status / 100 == 2) {
    if (!(*t->sink)(*t->resp, data, size * n)) {
      t->aborted = true;
      return 0;
    }
  } else {
    if (t->resp->body.size() > (size_t(1) << 26)) return 0;  // an error page or JSON never needs 64 MiB
    t->resp->body.append(data, size * n);
  }
  return size * n;
}

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

std::string endpoint() {
  std::string e = env("HF_ENDPOINT");
  if (e.empty()) e = "https://huggingface.co";
  while (!e.empty() && e.back() == '/') e.pop_back();
  return e;
}

std::string token() {
  if (auto t = trim(env("HF_TOKEN")); !t.empty()) return t;
  namespace fs = std::filesystem;
  std::string path = env("HF_TOKEN_PATH");
  if (path.empty()) {
    std::string home = env("HF_HOME");
    if (home.empty() && !env("XDG_CACHE_HOME").empty()) home = (fs::path(env("XDG_CACHE_HOME")) / "huggingface").string();
    if (home.empty() && !env("HOME").empty()) home = (fs::path(env("HOME")) / ".cache" / "huggingface").string();
    if (home.empty()) return "";
    path = (fs::path(home) / "token").string();
  }
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return "";
  std::string text = io::read_small_file(path, "hub", 65536);
  return trim(text.substr(0, text.find('\n')));
}

std::string url_escape(const std::string& s, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += char(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

HttpResponse http_request(const HttpRequest& req, const BodySink& sink) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) throw std::runtime_error("[hub] cannot start libcurl for " + req.url);
  HttpResponse resp;
  CURL* c = curl.get();
  Transfer t{c, &resp, &sink};
  curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, req.follow_redirects ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
  // A transfer that stalls (under 1 byte/s for a minute) fails instead of hanging.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "uma/0.1 (huggingface_hub-compatible)");
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  if (req.method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  std::string range = std::to_string(req.range_from) + "-";  // libcurl sends "Range: bytes=N-"
  if (req.range_from > 0) curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());
  curl_slist* headers = nullptr;
  // Sizes and hashes are of the stored bytes: no transparent compression.
  headers = curl_slist_append(headers, "Accept-Encoding: identity");
  std::string auth;
  if (req.auth) {
    if (std::string tok = token(); !tok.empty()) {
      auth = "Authorization: Bearer " + tok;
      headers = curl_slist_append(headers, auth.c_str());  // libcurl drops it on a redirect to another host
    }
  }
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> header_list(headers, curl_slist_free_all);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  resp.status = status;
  char* eff = nullptr;
  curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &eff);
  resp.url = eff ? eff : req.url;
  if (rc != CURLE_OK) {
 if (t.aborted) throw NetworkError("[hub] download of " + req.url + " was stopped");
    throw NetworkError("[hub] cannot reach " + req.url + ": " + curl_easy_strerror(rc));
  }
  return resp;
}

void check_status(const HttpResponse& r, const std::string& what, const std::string& url) {
  if (r.status / 100 == 2) return;
  std::string code = " (HTTP " + std::to_string(r.status) + " for " + url + ")";
  if (r.status == 401 || r.status == 403) {
    throw std::runtime_error("[hub] " + what + ": gated or private repo, or no such repo" + code +
                             "; set HF_TOKEN (or log in with `hf auth login`) with access to it");
  }
  if (r.status == 404) throw std::runtime_error("[hub] " + what + ": repo or file not found" + code);
  throw std::runtime_error("[hub] " + what + ": the hub answered" + code);
}

}  // namespace uma::hub
