#include "serve_stress/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>

namespace uma::serve_stress {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t\r");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

constexpr size_t kMaxHead = size_t(1) << 20;

}  // namespace

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string HttpResponse::header(const std::string& name) const {
  for (auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

Connection::Connection(int port, int rcvbuf) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) return;
  if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  // A server that stops reading must not block a sender forever.
  timeval tv{30, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) close();
}

Connection::~Connection() { close(); }

void Connection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool Connection::send(std::string_view data) {
  while (!data.empty() && fd_ >= 0) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(size_t(n));
  }
  return fd_ >= 0;
}

bool Connection::send_nonblocking(std::string_view data) {
  if (fd_ < 0) return false;
  ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  return n >= 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

void Connection::shutdown_write() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

bool Connection::fill(double deadline) {
  for (;;) {
    double left = deadline - now_seconds();
    if (left <= 0) {
      error_ = "timed out";
      return false;
    }
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, int(std::min(left, 1.0) * 1000) + 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error_ = n == 0 ? "connection closed" : "connection reset";
      return false;
    }
    buf_.append(tmp, size_t(n));
    return true;
  }
}

HttpResponse Connection::read_response(double timeout_s, const BodyReader& on_body, bool head) {
  HttpResponse r;
  if (fd_ < 0) {
    r.error = "not connected";
    return r;
  }
  const double deadline = now_seconds() + timeout_s;
  auto fail = [&](const std::string& why) {
    r.error = why.empty() ? error_ : why;
    return r;
  };
  for (;;) {
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (buf_.size() > kMaxHead) return fail("response head over 1 MiB");
      if (!fill(deadline)) return fail(buf_.empty() ? "" : error_ + " inside the response head");
    }
    std::string head_text = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    size_t eol = head_text.find("\r\n");
    std::string status_line = head_text.substr(0, eol);
    if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) {
      return fail("bad status line: " + status_line.substr(0, 80));
    }
    r.status = std::atoi(status_line.c_str() + 9);
    r.headers.clear();
    size_t at = eol == std::string::npos ? head_text.size() : eol + 2;
    while (at < head_text.size()) {
      size_t next = head_text.find("\r\n", at);
      if (next == std::string::npos) next = head_text.size();
      std::string line = head_text.substr(at, next - at);
      size_t colon = line.find(':');
      if (colon == std::string::npos) return fail("bad header line: " + line.substr(0, 80));
      r.headers.emplace_back(lower(trim(line.substr(0, colon))), trim(line.substr(colon + 1)));
      at = next + 2;
    }
    if (r.status >= 100 && r.status < 200) continue;  // 100 Continue: the real answer follows
    break;
  }
  auto deliver = [&](std::string_view piece) {
    r.body.append(piece);
    if (on_body && !on_body(piece)) r.stopped = true;
    return !r.stopped;
  };
  if (head || r.status == 204 || r.status == 304) return r;
  if (lower(r.header("transfer-encoding")).find("chunked") != std::string::npos) {
    for (;;) {
      size_t eol;
      while ((eol = buf_.find("\r\n")) == std::string::npos) {
        if (!fill(deadline)) return fail(error_ + " inside a chunk size");
      }
      std::string size_line = buf_.substr(0, eol);
      char* stop = nullptr;
      unsigned long long size = std::strtoull(size_line.c_str(), &stop, 16);
      if (stop == size_line.c_str() || (*stop != 0 && *stop != ';')) return fail("bad chunk size: " + size_line);
      buf_.erase(0, eol + 2);
      if (size == 0) {
        // Trailers (none expected), then the empty line.
        while (buf_.find("\r\n") == std::string::npos) {
          if (!fill(deadline)) return fail(error_ + " after the last chunk");
        }
        buf_.erase(0, buf_.find("\r\n") + 2);
        return r;
      }
      while (buf_.size() < size + 2) {
        if (!fill(deadline)) return fail(error_ + " inside a chunk");
      }
      if (buf_.compare(size, 2, "\r\n") != 0) return fail("a chunk does not end with CRLF");
      std::string piece = buf_.substr(0, size);
      buf_.erase(0, size + 2);
      if (!deliver(piece)) return r;
    }
  }
  std::string cl = r.header("content-length");
  if (!cl.empty()) {
    char* stop = nullptr;
    unsigned long long n = std::strtoull(cl.c_str(), &stop, 10);
    if (stop == cl.c_str() || *stop != 0) return fail("bad Content-Length: " + cl);
    while (buf_.size() < n) {
      if (!buf_.empty()) {
        std::string piece = std::move(buf_);
        buf_.clear();
        n -= piece.size();
        if (!deliver(piece)) return r;
        continue;
      }
      if (!fill(deadline)) return fail(error_ + " inside the body");
    }
    std::string piece = buf_.substr(0, n);
    buf_.erase(0, n);
    deliver(piece);
    return r;
  }
  // No framing: the body runs to the end of the connection.
  for (;;) {
    if (!buf_.empty()) {
      std::string piece = std::move(buf_);
      buf_.clear();
      if (!deliver(piece)) return r;
    }
    if (!fill(deadline)) {
      if (error_ == "connection closed") return r;
      return fail("");
    }
  }
}

bool Connection::wait_closed(double timeout_s, std::string* got) {
  const double deadline = now_seconds() + timeout_s;
  for (;;) {
    if (got) got->append(buf_);
    buf_.clear();
    if (fd_ < 0) return true;
    if (!fill(deadline)) {
      if (got) got->append(buf_);
      buf_.clear();
      return error_ != "timed out";
    }
  }
}

bool Connection::closed_by_peer() {
  if (fd_ < 0) return true;
  for (;;) {
    pollfd p{fd_, short(POLLIN | POLLRDHUP), 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    char tmp[4096];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, MSG_DONTWAIT);
    if (n > 0) {
      buf_.append(tmp, size_t(n));
      continue;
    }
    return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
  }
}

std::string http_request(const std::string& method, const std::string& path, const std::string& body,
                         const std::string& content_type) {
  std::string r = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!content_type.empty()) r += "Content-Type: " + content_type + "\r\n";
  if (!body.empty() || method == "POST") r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + body;
}

std::vector<std::string> sse_events(std::string_view piece, std::string& rest) {
  rest.append(piece);
  std::vector<std::string> out;
  size_t end;
  while ((end = rest.find("\n\n")) != std::string::npos) {
    std::string block = rest.substr(0, end);
    rest.erase(0, end + 2);
    std::string data;
    bool any = false;
    size_t at = 0;
    while (at <= block.size()) {
      size_t nl = block.find('\n', at);
      if (nl == std::string::npos) nl = block.size();
      std::string line = block.substr(at, nl - at);
      if (line.rfind("data:", 0) == 0) {
        if (any) data += '\n';
        data += line.substr(line.size() > 5 && line[5] == ' ' ? 6 : 5);
        any = true;
      }
      at = nl + 1;
    }
    if (any) out.push_back(data);
  }
  return out;
}

}  // namespace uma::serve_stress
