// Whether an HTTP client is still there. cpp-httplib (0.11) tells a handler
// neither its socket nor that the peer hung up, and a request that waits for
// its answer writes nothing until the end; so the socket is found among this
// process's descriptors by the connection's two addresses, and asked (without
// reading) whether the peer has closed it. Linux only; elsewhere, never gone.
#pragma once

#include <string>

namespace uma::serve {

// The descriptor of the TCP connection from remote_addr:remote_port to
// local_port, or -1 when there is none (or it cannot be told).
int connection_socket(const std::string& remote_addr, int remote_port, int local_port);

// The address and port of socket fd's peer (peer = true) or of its own end;
// false when they cannot be told (not an IPv4 or IPv6 socket).
bool socket_address(int fd, bool peer, std::string& addr, int& port);

// True when the peer of connected socket `fd` has shut down or reset it.
// Pending unread bytes (a pipelined next request) are left unread. A client
// that half-closes its side after sending the request (rare over HTTP/1.1)
// counts as gone.
bool peer_closed(int fd);

}  // namespace uma::serve
