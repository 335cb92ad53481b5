// A small HTTP/1.1 client over plain sockets for the `uma serve` stress tools
// (load, fuzz, slow clients). It sends bytes exactly as given, so that
// malformed requests go out as written, and reads a response incrementally:
// status line, headers, then a body framed by Content-Length, chunked
// encoding or the end of the connection, handed to a callback as it comes.
// It is written apart from cpp-httplib, which the server uses, so that the
// server's framing is read by other code than the one that wrote it.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace uma::serve_stress {

struct HttpResponse {
  int status = 0;  // 0: no response came (see error)
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;   // without the chunked framing
  std::string error;  // non-empty: reading failed (timeout, connection closed, bad framing)
  bool stopped = false;  // the body callback asked to stop reading

  // The first header of that (lowercase) name, or "".
  std::string header(const std::string& name) const;
};

// Called with each piece of the body as it arrives; false stops reading.
using BodyReader = std::function<bool(std::string_view)>;

class Connection {
 public:
  // Connects to 127.0.0.1:port; rcvbuf > 0 sets a small receive buffer (a
  // client that reads slowly). ok() is false when it could not connect.
  explicit Connection(int port, int rcvbuf = 0);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // Sends all of `data`; false when the peer is gone.
  bool send(std::string_view data);
  // Sends what it can without blocking; false when the peer is gone.
  bool send_nonblocking(std::string_view data);
  // Half-closes: the server reads the end of the request.
  void shutdown_write();
  void close();

  // Reads one response (1xx interim responses are skipped) within
  // timeout_s. `head`: the request was a HEAD (no body follows).
  HttpResponse read_response(double timeout_s, const BodyReader& on_body = {}, bool head = false);
  // True when the server closes the connection within timeout_s; what it
  // sent meanwhile is appended to `got`.
  bool wait_closed(double timeout_s, std::string* got = nullptr);
  // True when the server has closed the connection (checked without waiting).
  bool closed_by_peer();

 private:
  // Reads more bytes into buf_ until `deadline` (steady clock seconds);
  // false on timeout or end of stream (error_ says which).
  bool fill(double deadline);

  int fd_ = -1;
  std::string buf_;  // received, not yet parsed
  std::string error_;
};

// Seconds on the steady clock (for deadlines and latencies).
double now_seconds();

// A request as bytes: `method path HTTP/1.1`, Host, Connection: close, the
// given content type (none when empty) and Content-Length, then `body`.
std::string http_request(const std::string& method, const std::string& path, const std::string& body = "",
                         const std::string& content_type = "application/json");

// The "data: ..." payloads of a server-sent-event stream, in order; `rest`
// keeps an unfinished event for the next piece.
std::vector<std::string> sse_events(std::string_view piece, std::string& rest);

}  // namespace uma::serve_stress
