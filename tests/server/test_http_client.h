// A minimal blocking HTTP/1.1 client for the server tests: one request per loopback
// connection (Connection: close), the answer read to EOF. Raw sockets on purpose, so
// tests see exactly the status line and body the server wrote.
#ifndef CAIRN_TESTS_SERVER_TEST_HTTP_CLIENT_H_
#define CAIRN_TESTS_SERVER_TEST_HTTP_CLIENT_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sys/time.h>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace cairn::server::test_http {

struct Reply {
  int status = 0;  // 0: no answer
  std::string body;
};

// A loopback TCP port that was free a moment ago (bound to port 0, then released),
// for starting a server or an external program on.
inline int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// A connected socket to 127.0.0.1:port, or -1. Reads and writes time out after 30 s,
// so a hung server fails the test instead of hanging it.
inline int ConnectLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Reads `fd` to EOF and splits the answer into status and body. Only a complete
// header counts as an answer: a status line alone may precede a server crash.
inline Reply ReadReply(int fd) {
  std::string resp;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) resp.append(buf, static_cast<size_t>(n));
  Reply r;
  size_t sep = resp.find("\r\n\r\n");
  if (resp.size() < 12 || resp.compare(0, 5, "HTTP/") != 0 || sep == std::string::npos) return r;
  r.status = std::atoi(resp.substr(9, 3).c_str());
  r.body = resp.substr(sep + 4);
  return r;
}

// Sends all of `data`; false if the connection broke (no SIGPIPE: the server may have
// been killed).
inline bool SendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// One request; `extra_headers` are complete "Name: value\r\n" lines.
inline Reply Request(int port, const std::string& method, const std::string& target,
                     const std::string& body = "", const std::string& extra_headers = "") {
  int fd = ConnectLoopback(port);
  if (fd < 0) return {};
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
                    extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
                    body;
  Reply r = SendAll(fd, req) ? ReadReply(fd) : Reply{};
  close(fd);
  return r;
}

}  // namespace cairn::server::test_http

#endif  // CAIRN_TESTS_SERVER_TEST_HTTP_CLIENT_H_
