// The HTTP layer of `uma serve`: cpp-httplib's Server with its own handling
// of connections. httplib 0.11 bounds each read and write (5 s) but not a
// whole request, reads chunked bodies without a size limit, inflates gzip
// bodies without one, and serves connections from a fixed pool of threads;
// so a client sending a byte every few seconds (slowloris) holds a thread for
// good, and a few hundred of them stall everyone. Here:
// - each connection gets a thread as it comes, up to max_connections (the
//   rest wait for one to end), so slow connections hold only their own;
// - a request must arrive whole within request_timeout_s (408), its head
//   within max_head_bytes (431), its body within max_body_bytes even when
//   chunked (413); compressed bodies are refused (415);
// - a request that sent any bytes gets an answer, also where httplib would
//   close the connection without one (a request line cut short);
// - Range headers are ignored (a range of a generated answer is garbage).
// Refusals are answered through the server's error handler, which reads
// http_refusal() for the status and message.
#pragma once

#include <httplib.h>

#include <string>

namespace uma::serve {

struct HttpLimits {
  int request_timeout_s = 30;      // to receive a whole request, head and body
  int max_connections = 512;       // connections served at once (a thread each)
  size_t max_head_bytes = 64 << 10;   // request line and headers
  size_t max_body_bytes = 16 << 20;   // the body, as sent (chunked framing aside)
};

// Why the connection layer refused the request the calling thread is
// serving: status 0 when it did not.
struct HttpRefusal {
  int status = 0;
  std::string message;
};
const HttpRefusal& http_refusal();

class HttpServer : public httplib::Server {
 public:
  explicit HttpServer(const HttpLimits& limits);
  // After binding: lets the kernel hold SOMAXCONN connections not yet
  // accepted (httplib listens with a backlog of 5, so a burst of clients
  // would wait for SYN retries, a second and more each).
  void widen_backlog();

 private:
  bool process_and_close_socket(socket_t sock) override;
  HttpLimits limits_;
};

}  // namespace uma::serve
