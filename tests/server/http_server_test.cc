#include "server/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "gtest/gtest.h"

namespace cairn::server {
namespace {

// A raw HTTP/1.1 client on one connection, so tests see exactly what went on the wire.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  }
  ~RawClient() { close(fd_); }
  bool connected() const { return connected_; }

  void Send(const std::string& data) {
    ASSERT_EQ(write(fd_, data.data(), data.size()), (ssize_t)data.size());
  }

  // Reads one response; returns the head (status line + headers) and body.
  bool ReadResponse(std::string* head, std::string* body) {
    while (buf_.find("\r\n\r\n") == std::string::npos) {
      if (!Fill()) return false;
    }
    size_t end = buf_.find("\r\n\r\n");
    *head = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    size_t cl = head->find("Content-Length: ");
    size_t len = cl == std::string::npos ? 0 : std::stoul(head->substr(cl + 16));
    while (buf_.size() < len) {
      if (!Fill()) return false;
    }
    *body = buf_.substr(0, len);
    buf_.erase(0, len);
    return true;
  }

 private:
  bool Fill() {
    char tmp[4096];
    ssize_t n = read(fd_, tmp, sizeof(tmp));
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }
  int fd_;
  bool connected_ = false;
  std::string buf_;
};

std::string Gunzip(const std::string& in) {
  z_stream zs{};
  inflateInit2(&zs, 15 + 16);
  std::string out(1 << 20, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  inflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  return out;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpServer::Options o;
    o.listen_address = "127.0.0.1:0";
    o.max_body_bytes = 1000;
    o.threads = 2;
    server_ = std::make_unique<HttpServer>(o);
    server_->Route("/echo", [](const HttpRequest& req, HttpResponse* resp) {
      resp->body = req.method + " " + req.path + " q=" + std::string(req.Param("q")) +
                   " n=" + std::to_string(req.Params("m").size());
    });
    server_->Route("/big", [](const HttpRequest&, HttpResponse* resp) {
      resp->body = std::string(5000, 'x');
    });
    server_->Route(
        "/static/",
        [](const HttpRequest& req, HttpResponse* resp) { resp->body = "prefix:" + req.path; },
        /*prefix=*/true);
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override { server_->Stop(); }
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, QueryFormAndKeepAlive) {
  RawClient c(server_->port());
  ASSERT_TRUE(c.connected());
  std::string head, body;
  c.Send("GET /echo?q=up%7Bjob%3D%22x%22%7D&m=1&m=2 HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(c.ReadResponse(&head, &body));
  EXPECT_NE(head.find("200"), std::string::npos);
  EXPECT_EQ(body, "GET /echo q=up{job=\"x\"} n=2");
  // Same connection: a POST with a form body.
  std::string form = "q=a+b&m=3";
  c.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
      "Content-Length: " +
      std::to_string(form.size()) + "\r\n\r\n" + form);
  ASSERT_TRUE(c.ReadResponse(&head, &body));
  EXPECT_EQ(body, "POST /echo q=a b n=1");
}

TEST_F(HttpServerTest, NotFoundAndPrefixRoutes) {
  RawClient c(server_->port());
  std::string head, body;
  c.Send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(c.ReadResponse(&head, &body));
  EXPECT_NE(head.find("404"), std::string::npos);
  c.Send("GET /static/a/b.js HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(c.ReadResponse(&head, &body));
  EXPECT_EQ(body, "prefix:/static/a/b.js");
}

TEST_F(HttpServerTest, BodyOverLimitGets413) {
  RawClient c(server_->port());
  std::string head, body;
  c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'a'));
  ASSERT_TRUE(c.ReadResponse(&head, &body));
  EXPECT_NE(head.find("413"), std::string::npos) << head;
  EXPECT_NE(body.find("1000"), std::string::npos);
  EXPECT_EQ(server_->limit_hits().body_bytes, 1u);
  EXPECT_EQ(server_->limit_hits().connections, 0u);
}

TEST(HttpServerLimitTest, ConnectionOverLimitGets503AndIsCounted) {
  HttpServer::Options o;
  o.listen_address = "127.0.0.1:0";
  o.max_connections = 1;
  o.threads = 1;
  HttpServer server(o);
  server.Route("/ok", [](const HttpRequest&, HttpResponse* resp) { resp->body = "ok"; });
  ASSERT_TRUE(server.Start().ok());
  std::string head, body;
  {
    RawClient first(server.port());
    // A completed request proves the first connection holds the only slot.
    first.Send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(first.ReadResponse(&head, &body));
    EXPECT_EQ(body, "ok");
    RawClient second(server.port());
    ASSERT_TRUE(second.connected());  // the kernel accepts; the server refuses
    ASSERT_TRUE(second.ReadResponse(&head, &body));
    EXPECT_NE(head.find("503"), std::string::npos) << head;
    EXPECT_EQ(body, "too many open connections: the limit is 1\n");
    EXPECT_EQ(server.limit_hits().connections, 1u);
  }
  // Once the first connection is gone its slot is free again. The server notices the
  // close asynchronously, so a refused attempt is retried (bounded).
  bool served = false;
  for (int attempt = 0; attempt < 200 && !served; ++attempt) {
    RawClient c(server.port());
    c.Send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
    served = c.ReadResponse(&head, &body) && body == "ok";
    if (!served) usleep(20000);
  }
  EXPECT_TRUE(served);
  server.Stop();
}

TEST_F(HttpServerTest, GarbageGets400) {
  RawClient c(server_->port());
  std::string head, body;
  c.Send("NOT HTTP AT ALL\r\n\r\n");
  ASSERT_TRUE(c.ReadResponse(&head, &body));
  EXPECT_NE(head.find("400"), std::string::npos) << head;
}

TEST_F(HttpServerTest, GzipWhenAccepted) {
  RawClient c(server_->port());
  std::string head, body;
  c.Send("GET /big HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip, deflate\r\n\r\n");
  ASSERT_TRUE(c.ReadResponse(&head, &body));
  EXPECT_NE(head.find("Content-Encoding: gzip"), std::string::npos);
  EXPECT_LT(body.size(), 5000u);
  EXPECT_EQ(Gunzip(body), std::string(5000, 'x'));
  c.Send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(c.ReadResponse(&head, &body));
  EXPECT_EQ(head.find("Content-Encoding"), std::string::npos);
  EXPECT_EQ(body.size(), 5000u);
}

TEST(UrlTest, DecodeRejectsMalformedEscapes) {
  std::string out;
  EXPECT_TRUE(UrlDecode("a%20b+c", true, &out));
  EXPECT_EQ(out, "a b c");
  EXPECT_FALSE(UrlDecode("a%2", true, &out));
  EXPECT_FALSE(UrlDecode("a%zz", true, &out));
  std::vector<std::pair<std::string, std::string>> kv;
  EXPECT_TRUE(ParseUrlEncoded("a=1&&b=&c", &kv));
  ASSERT_EQ(kv.size(), 3u);
  EXPECT_EQ(kv[1], (std::pair<std::string, std::string>{"b", ""}));
  EXPECT_EQ(kv[2].first, "c");
}

}  // namespace
}  // namespace cairn::server
