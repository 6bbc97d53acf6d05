// HttpServer: the HTTP/1.1 server behind the Prometheus API, remote write, /metrics
// and the UI. Built on Boost.Beast + Asio (docs/http.md says why): asynchronous I/O
// on a small thread pool, so dozens of keep-alive connections from remote-write
// senders cost a socket each, not a thread each.
//
// Guards every connection with a read timeout, an idle keep-alive timeout, a header
// size limit and a body size limit (413 beyond it, before the body is read), and the
// server with a connection limit (new connections beyond it are answered 503 and
// closed at once). limit_hits() counts both refusals for /metrics.
// Responses are gzip-compressed when the client accepts gzip and the body is larger
// than 1 KiB (Prometheus does the same).
//
// With a web config (SetSecurity), every connection is TLS when it enables TLS
// (plain-HTTP requests to it get Go's "400 Client sent an HTTP request to an HTTPS
// server"), its response headers are added, and with basic_auth_users every request
// on every path needs valid credentials: the header is checked before the body is
// read, bcrypt runs on one auxiliary thread, a failure answers 401 with
// `WWW-Authenticate: Basic` and closes the connection. The read timeout also bounds
// the TLS handshake.
//
// Handlers run on the I/O threads and may run concurrently; they must be thread-safe.
// Stop() stops accepting, lets in-flight requests finish (up to a grace period), then
// closes every connection.
#ifndef CAIRN_SERVER_HTTP_SERVER_H_
#define CAIRN_SERVER_HTTP_SERVER_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace cairn::server {

class WebSecurity;

struct HttpRequest {
  std::string method;     // "GET", "POST", ...
  std::string path;       // percent-decoded, without the query string
  std::string raw_query;  // as received, without '?'
  // Query parameters, plus the form fields of a POST with
  // Content-Type application/x-www-form-urlencoded, in order.
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remote_address;

  // The first value of parameter `name`, or "" when absent.
  std::string_view Param(std::string_view name) const;
  bool HasParam(std::string_view name) const;
  std::vector<std::string> Params(std::string_view name) const;
  // The value of header `name` (case-insensitive), or "" when absent.
  std::string_view Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

class HttpServer {
 public:
  struct Options {
    std::string listen_address = "0.0.0.0:9090";  // host:port; port 0 picks a free one
    size_t max_body_bytes = 32 << 20;
    size_t max_header_bytes = 64 << 10;
    int read_timeout_seconds = 60;
    int idle_timeout_seconds = 300;
    size_t max_connections = 1024;
    int threads = 4;
  };
  using Handler = std::function<void(const HttpRequest&, HttpResponse*)>;
  // Called after every request with its handler name ("" for unrouted), status and
  // duration, for metrics.
  using Observer = std::function<void(std::string_view handler, int status, double seconds)>;

  explicit HttpServer(Options options);
  ~HttpServer();

  // Routes an exact path, or (with prefix = true) every path under it. Longest match
  // wins. REQUIRES: before Start().
  void Route(std::string path, Handler handler, bool prefix = false);
  void SetObserver(Observer observer) { observer_ = std::move(observer); }
  // TLS and authentication from --web.config.file; null (the default) serves plain,
  // open HTTP. `security` must outlive the server. REQUIRES: before Start().
  void SetSecurity(WebSecurity* security) { security_ = security; }

  // Binds and starts serving; fails with the address in the message.
  absl::Status Start();
  void Stop();
  // Requests refused for their body size (413) and connections refused over
  // max_connections (503), since Start(). Thread-safe.
  struct LimitHits {
    uint64_t body_bytes = 0;
    uint64_t connections = 0;
  };
  LimitHits limit_hits() const;

  // The bound port (useful with port 0). REQUIRES: Start() succeeded.
  int port() const { return port_; }

  // Dispatches a request as a connection would (tests, and the gRPC bridge).
  void Dispatch(const HttpRequest& req, HttpResponse* resp, std::string* handler_name) const;

  struct Impl;

 private:
  Options options_;
  std::map<std::string, std::pair<Handler, bool>, std::greater<>> routes_;
  Observer observer_;
  WebSecurity* security_ = nullptr;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

// Percent-decodes a URL component ('+' as space when `plus_is_space`). False on
// malformed escapes.
bool UrlDecode(std::string_view in, bool plus_is_space, std::string* out);
// Parses "a=1&b=2" into pairs, appending to `out`. False on malformed escapes.
bool ParseUrlEncoded(std::string_view in, std::vector<std::pair<std::string, std::string>>* out);
// gzip-compresses `in` (zlib, level 1: API responses favour speed).
std::string GzipCompress(std::string_view in);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_HTTP_SERVER_H_
