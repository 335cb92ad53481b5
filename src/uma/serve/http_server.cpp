#include "uma/serve/http_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "uma/serve/connection.h"
#include "uma/serve/openai.h"

namespace uma::serve {

namespace {

using clock_type = std::chrono::steady_clock;

thread_local const HttpRefusal* t_refusal = nullptr;

// A thread per connection, started when no idle one is left, up to `max`
// (connections beyond it wait in arrival order). Threads stay for the
// next connections; shutdown() lets the running ones finish.
class ConnectionThreads : public httplib::TaskQueue {
 public:
  explicit ConnectionThreads(size_t max) : max_(std::max<size_t>(max, 1)) {}
  void enqueue(std::function<void()> fn) override {
    std::lock_guard lk(m_);
    jobs_.push_back(std::move(fn));
    // Every waiting connection needs an idle thread of its own.
    if (jobs_.size() > idle_ && threads_.size() < max_) threads_.emplace_back([this] { work(); });
    cv_.notify_one();
  }
  void shutdown() override {
    {
      std::lock_guard lk(m_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

 private:
  void work() {
    std::unique_lock lk(m_);
    for (;;) {
      ++idle_;
      cv_.wait(lk, [&] { return stop_ || !jobs_.empty(); });
      --idle_;
      if (jobs_.empty()) return;
      auto fn = std::move(jobs_.front());
      jobs_.pop_front();
      lk.unlock();
      fn();
      lk.lock();
    }
  }
  const size_t max_;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  bool stop_ = false;
};

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// One connection's socket as httplib reads and writes it, with a deadline and
// byte budgets per request. Its buffer lasts as long as the connection, so
// bytes of a pipelined next request are kept for it.
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(socket_t fd, const HttpLimits& l, time_t read_s, time_t write_s)
      : fd_(fd), limits_(l), read_ms_(int(read_s * 1000)), write_ms_(int(write_s * 1000)) {}

  // Waits up to keep_alive_s for the next request's first byte; false when
  // none comes, the peer has gone or the server is stopping.
  bool wait_for_request(time_t keep_alive_s, const std::atomic<socket_t>& server) {
    const auto until = clock_type::now() + std::chrono::seconds(keep_alive_s);
    while (off_ == buf_.size()) {
      if (server == INVALID_SOCKET || clock_type::now() >= until) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) > 0 && receive() <= 0) return false;
    }
    return true;
  }

  void begin_request() {
    deadline_ = clock_type::now() + std::chrono::seconds(limits_.request_timeout_s);
    in_head_ = true;
    head_.clear();
    body_bytes_ = 0;
    received_ = answered_ = has_body_ = false;
    refuse_body_ = {};
    refusal_ = {};
    t_refusal = &refusal_;
  }
  bool received() const { return received_; }
  // The head announced a body and none of it was read (the request was
  // answered before its body: the API key check).
  bool body_unread() const { return has_body_ && body_bytes_ == 0; }
  bool answered() const { return answered_; }
  const HttpRefusal& refusal() const { return refusal_; }

  bool is_readable() const override {
    pollfd p{fd_, POLLIN, 0};
    return off_ < buf_.size() || ::poll(&p, 1, 0) > 0;
  }
  bool is_writable() const override {
    pollfd p{fd_, POLLOUT, 0};
    return ::poll(&p, 1, write_ms_) > 0 && !(p.revents & (POLLERR | POLLHUP));
  }

  ssize_t read(char* ptr, size_t size) override {
    if (refusal_.status) return -1;
    if (!in_head_ && refuse_body_.status) {
      refusal_ = refuse_body_;
      return -1;
    }
    if (off_ == buf_.size()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - clock_type::now()).count();
      pollfd p{fd_, POLLIN, 0};
      int r = left <= 0 ? 0 : ::poll(&p, 1, int(std::min<long long>(left, read_ms_)));
      if (r <= 0) {
        refusal_ = {408, left <= 0 || left <= read_ms_
                             ? "the request did not arrive whole within " + std::to_string(limits_.request_timeout_s) + " s"
                             : "the client sent nothing for " + std::to_string(read_ms_ / 1000) + " s mid-request"};
        return -1;
      }
      ssize_t n = receive();
      if (n <= 0) return n;
    }
    size_t n = std::min(size, buf_.size() - off_);
    if (in_head_) n = std::min<size_t>(n, 1);  // the head is read a byte at a time anyway
    if (!account(buf_.data() + off_, n)) return -1;
    std::memcpy(ptr, buf_.data() + off_, n);
    off_ += n;
    received_ = true;
    if (off_ == buf_.size()) buf_.clear(), off_ = 0;
    return ssize_t(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    answered_ = true;
    if (!is_writable()) return -1;
    ssize_t n;
    do {
      n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { socket_address(fd_, true, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { socket_address(fd_, false, ip, port); }
  socket_t socket() const override { return fd_; }

 private:
  ssize_t receive() {
    char tmp[16384];
    ssize_t n;
    do {
      n = ::recv(fd_, tmp, sizeof tmp, 0);
    } while (n < 0 && errno == EINTR);
    if (n > 0) buf_.append(tmp, size_t(n));
    return n;
  }

  // Counts bytes httplib takes against the request's budgets.
  bool account(const char* p, size_t n) {
    if (!in_head_) {
      body_bytes_ += n;
      // Room for chunked framing on top of the body itself (the handler
      // checks the body's own size).
      if (body_bytes_ > limits_.max_body_bytes + limits_.max_body_bytes / 16 + (64 << 10)) {
        refusal_ = {413, "the request body is larger than " + std::to_string(limits_.max_body_bytes >> 20) + " MiB"};
        return false;
      }
      return true;
    }
    head_.append(p, n);
    if (head_.size() > limits_.max_head_bytes) {
      refusal_ = {431, "the request line and headers are larger than " +
                           std::to_string(limits_.max_head_bytes >> 10) + " KiB"};
      return false;
    }
    const bool end = head_.size() >= 2 && (head_.compare(head_.size() - 2, 2, "\n\n") == 0 ||
                                           (head_.size() >= 4 && head_.compare(head_.size() - 4, 4, "\r\n\r\n") == 0));
    if (end) {
      in_head_ = false;
      std::string h = lower(head_);
      // Whether a body follows the head (a refusal before reading it leaves
      // it on the connection, where it would be read as the next request).
      size_t cl = h.find("\ncontent-length:");
      has_body_ = h.find("\ntransfer-encoding:") != std::string::npos ||
                  (cl != std::string::npos && std::strtoull(h.c_str() + cl + 16, nullptr, 10) > 0);
      // A small gzip or brotli body may inflate past any limit before httplib hands it over.
      size_t at = h.find("\ncontent-encoding:");
      if (at != std::string::npos) {
        size_t eol = h.find('\n', at + 1);
        std::string v = h.substr(at + 18, eol - at - 18);
        v.erase(0, v.find_first_not_of(" \t"));
        v.erase(v.find_last_not_of(" \t\r") + 1);
        if (!v.empty() && v != "identity") {
          refuse_body_ = {415, "compressed request bodies (Content-Encoding: " + v + ") are not accepted"};
        }
      }
    }
    return true;
  }

  socket_t fd_;
  const HttpLimits& limits_;
  const int read_ms_, write_ms_;
  std::string buf_;
  size_t off_ = 0;
  clock_type::time_point deadline_;
  bool in_head_ = true, received_ = false, answered_ = false, has_body_ = false;
  std::string head_;
  size_t body_bytes_ = 0;
  HttpRefusal refusal_, refuse_body_;
};

// Closes a connection whose request was refused half-read: the client may
// still be sending, and closing with its bytes unread would reset the
// connection and drop the answer; so the rest is read and dropped first,
// for a second or two at most.
void drain(socket_t sock) {
  ::shutdown(sock, SHUT_WR);
  const auto until = clock_type::now() + std::chrono::seconds(2);
  char tmp[16384];
  for (size_t total = 0; total < (size_t(16) << 20) && clock_type::now() < until;) {
    pollfd p{sock, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::recv(sock, tmp, sizeof tmp, 0);
    if (n <= 0) break;
    total += size_t(n);
  }
}

const char* reason(int status) {
  switch (status) {
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 431: return "Request Header Fields Too Large";
    default: return "Bad Request";
  }
}

}  // namespace

const HttpRefusal& http_refusal() {
  static const HttpRefusal none;
  return t_refusal ? *t_refusal : none;
}

HttpServer::HttpServer(const HttpLimits& limits) : limits_(limits) {
  const size_t n = size_t(std::max(1, limits.max_connections));
  new_task_queue = [n] { return new ConnectionThreads(n); };
  set_payload_max_length(limits.max_body_bytes);
}

void HttpServer::widen_backlog() {
  if (svr_sock_ != INVALID_SOCKET) ::listen(svr_sock_, SOMAXCONN);
}

bool HttpServer::process_and_close_socket(socket_t sock) {
  bool ret = false;
  {
    ConnectionStream strm(sock, limits_, read_timeout_sec_, write_timeout_sec_);
    for (size_t left = keep_alive_max_count_; left > 0; --left) {
      if (!strm.wait_for_request(keep_alive_timeout_sec_, svr_sock_)) break;
      strm.begin_request();
      bool closed = false;
      ret = process_request(strm, left == 1, closed, [](httplib::Request& req) { req.ranges.clear(); });
      if (strm.received() && !strm.answered()) {
        // httplib closes without a word when the request line itself is cut
        // short (a timeout, the client's end): answer it anyway.
        const HttpRefusal& why = strm.refusal();
        const int status = why.status ? why.status : 400;
        const std::string body =
            error_body(why.status ? why.message : "the request ended before its request line and headers")
                .dump();
        const std::string head = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) +
                                 "\r\nContent-Type: application/json\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
        strm.write((head + body).data(), head.size() + body.size());
        ret = false;
      }
      if (!ret || closed || strm.refusal().status || strm.body_unread()) break;
    }
    t_refusal = nullptr;
    if (strm.refusal().status || strm.body_unread()) drain(sock);
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ret;
}

}  // namespace uma::serve
