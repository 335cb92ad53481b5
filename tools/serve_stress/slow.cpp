#include "serve_stress/slow.h"

namespace uma::serve_stress {

SlowClients::SlowClients(int port, int n) {
  for (int i = 0; i < n; ++i) {
    auto c = std::make_unique<Connection>(port);
    if (!c->ok()) continue;
    // Even: stuck in a header that never ends; odd: in a body never complete.
    const std::string start = i % 2 == 0 ? "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
                                         : "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                           "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{";
    c->send_nonblocking(start);
    conns_.push_back(std::move(c));
  }
  answers_.assign(conns_.size(), HttpResponse{});
  closed_.assign(conns_.size(), false);
}

int SlowClients::opened() const { return int(conns_.size()); }

int SlowClients::tick() {
  int closed = 0;
  for (size_t i = 0; i < conns_.size(); ++i) {
    if (!closed_[i] && conns_[i]->closed_by_peer()) {
      closed_[i] = true;
      answers_[i] = conns_[i]->read_response(1);
      conns_[i]->close();
    }
    if (!closed_[i]) conns_[i]->send_nonblocking(i % 2 == 0 ? "a" : " ");
    closed += closed_[i];
  }
  return closed;
}

}  // namespace uma::serve_stress
