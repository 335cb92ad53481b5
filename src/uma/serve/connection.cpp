#include "uma/serve/connection.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

namespace uma::serve {

namespace {

// The address and port of a sockaddr (IPv4 or IPv6); false for other families.
bool address_of(const sockaddr_storage& a, std::string& addr, int& port) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (a.ss_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(&a);
    if (!inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf)) return false;
    port = ntohs(in->sin_port);
  } else if (a.ss_family == AF_INET6) {
    auto* in = reinterpret_cast<const sockaddr_in6*>(&a);
    if (!inet_ntop(AF_INET6, &in->sin6_addr, buf, sizeof buf)) return false;
    port = ntohs(in->sin6_port);
  } else {
    return false;
  }
  addr = buf;
  return true;
}

}  // namespace

bool socket_address(int fd, bool peer, std::string& addr, int& port) {
  sockaddr_storage a{};
  socklen_t n = sizeof a;
  int rc = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &n)
                : ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  return rc == 0 && address_of(a, addr, port);
}

int connection_socket(const std::string& remote_addr, int remote_port, int local_port) {
#ifdef __linux__
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return -1;
  int found = -1;
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != 0 || fd == ::dirfd(d)) continue;
    std::string pa, sa;
    int pp = 0, sp = 0;
    if (!socket_address(int(fd), true, pa, pp) || !socket_address(int(fd), false, sa, sp)) continue;
    if (pp == remote_port && sp == local_port && pa == remote_addr) {
      found = int(fd);
      break;
    }
  }
  ::closedir(d);
  return found;
#else
  (void)remote_addr, (void)remote_port, (void)local_port;
  return -1;
#endif
}

bool peer_closed(int fd) {
  if (fd < 0) return false;
#ifdef __linux__
  pollfd p{fd, short(POLLIN | POLLRDHUP), 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return true;
  if (p.revents & POLLIN) {
    char c;
    return ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
  }
#endif
  return false;
}

}  // namespace uma::serve
