// Slow clients for `uma serve` (slowloris): connections that send a request
// a byte at a time, never finishing it, half of them in the headers (a
// header that never ends) and half in the body (a Content-Length never
// met). The server must cut them off (its request timeout) without letting
// them hold the threads that other clients need.
#pragma once

#include <memory>
#include <vector>

#include "serve_stress/http_client.h"

namespace uma::serve_stress {

class SlowClients {
 public:
  // Opens n connections to 127.0.0.1:port and sends each a request's start.
  SlowClients(int port, int n);
  int opened() const;
  // Sends one more byte on each connection the server has not closed;
  // returns how many it has closed so far.
  int tick();
  // What the server answered on each connection it closed (status 0 while
  // open, or when it closed without an answer).
  const std::vector<HttpResponse>& answers() const { return answers_; }

 private:
  std::vector<std::unique_ptr<Connection>> conns_;
  std::vector<HttpResponse> answers_;
  std::vector<bool> closed_;
};

}  // namespace uma::serve_stress
