// HTTP for the hub client, over libcurl: one request at a time, the body
// streamed to a sink, the response headers kept by lowercase name. Proxies
// come from libcurl's standard variables (https_proxy, no_proxy, ...).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>

namespace uma::hub {

struct HttpRequest {
  std::string method = "GET";  // "GET" or "HEAD"
  std::string url;
  bool follow_redirects = true;
  uint64_t range_from = 0;  // > 0: ask for the bytes from here on (Range: bytes=N-)
  bool auth = true;         // send the token, if any, as Authorization: Bearer
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // the final response's, names in lowercase
  std::string body;                            // when no sink was given
  std::string url;                             // after redirects
  std::string header(const std::string& name) const;
};

// Receives the body in pieces, with the response so far (status and
// headers); returning false aborts the transfer. Called only for a 2xx
// response (an error's body goes to HttpResponse::body).
using BodySink = std::function<bool(const HttpResponse& head, const char* data, size_t n)>;

// No HTTP answer came: the host is down or unreachable, or the connection
// broke. Callers may fall back to the cache on it.
struct NetworkError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Performs `req`. Throws NetworkError "[hub] cannot reach URL: why" when no
// HTTP response came (or the sink aborted); HTTP errors are returned.
HttpResponse http_request(const HttpRequest& req, const BodySink& sink = {});

// $HF_ENDPOINT without a trailing '/', else https://huggingface.co.
std::string endpoint();
// $HF_TOKEN, else the first line of $HF_TOKEN_PATH, else of $HF_HOME/token,
// else of ~/.cache/huggingface/token; empty when none.
std::string token();

// Throws the hub's errors for a failed response: 401/403 as a gated or
// private repo (set HF_TOKEN), 404 as not found, any other non-2xx with its
// status. `what` names the repo or file; the message names the URL too.
void check_status(const HttpResponse& r, const std::string& what, const std::string& url);

// "%"-escapes `s` for a URL path; '/' is kept when keep_slash.
std::string url_escape(const std::string& s, bool keep_slash);

}  // namespace uma::hub
