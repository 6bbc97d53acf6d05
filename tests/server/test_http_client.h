// A minimal blocking HTTP/1.1 client for the server tests: one request per loopback
// connection (Connection: close), the answer read to EOF. Raw sockets on purpose, so
// tests see exactly the status line and body the server wrote.
#ifndef CAIRN_TESTS_SERVER_TEST_HTTP_CLIENT_H_
#define CAIRN_TESTS_SERVER_TEST_HTTP_CLIENT_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>

namespace cairn::server::test_http {

struct Reply {
  int status = 0;  // 0: no answer
  std::string body;
};

// A connected socket to 127.0.0.1:port, or -1.
inline int ConnectLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
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

// Reads `fd` to EOF and splits the answer into status and body.
inline Reply ReadReply(int fd) {
  std::string resp;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) resp.append(buf, static_cast<size_t>(n));
  Reply r;
  if (resp.size() > 12) r.status = std::stoi(resp.substr(9, 3));
  size_t sep = resp.find("\r\n\r\n");
  if (sep != std::string::npos) r.body = resp.substr(sep + 4);
  return r;
}

// One request; `extra_headers` are complete "Name: value\r\n" lines.
inline Reply Request(int port, const std::string& method, const std::string& target,
                     const std::string& body = "", const std::string& extra_headers = "") {
  int fd = ConnectLoopback(port);
  if (fd < 0) return {};
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
                    extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
                    body;
  (void)!write(fd, req.data(), req.size());
  Reply r = ReadReply(fd);
  close(fd);
  return r;
}

}  // namespace cairn::server::test_http

#endif  // CAIRN_TESTS_SERVER_TEST_HTTP_CLIENT_H_
