#include "server/http_server.h"

#include <zlib.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "server/tls_context.h"
#include "server/web_security.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr size_t kGzipMinBytes = 1024;
constexpr auto kStopGrace = std::chrono::seconds(10);

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool AcceptsGzip(std::string_view accept_encoding) {
  for (absl::string_view part : absl::StrSplit(Sv(accept_encoding), ',')) {
    part = absl::StripAsciiWhitespace(part);
    if (absl::StartsWith(part, "gzip") && !absl::StrContains(part, "q=0")) return true;
  }
  return false;
}

}  // namespace

std::string_view HttpRequest::Param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return {};
}

bool HttpRequest::HasParam(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return true;
  }
  return false;
}

std::vector<std::string> HttpRequest::Params(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : params) {
    if (k == name) out.push_back(v);
  }
  return out;
}

std::string_view HttpRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (absl::EqualsIgnoreCase(Sv(k), Sv(name))) return v;
  }
  return {};
}

bool UrlDecode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

bool ParseUrlEncoded(std::string_view in, std::vector<std::pair<std::string, std::string>>* out) {
  while (!in.empty()) {
    size_t amp = in.find('&');
    std::string_view pair = in.substr(0, amp);
    in = amp == std::string_view::npos ? std::string_view() : in.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key, value;
    if (!UrlDecode(pair.substr(0, eq), true, &key)) return false;
    if (eq != std::string_view::npos && !UrlDecode(pair.substr(eq + 1), true, &value)) return false;
    out->emplace_back(std::move(key), std::move(value));
  }
  return true;
}

std::string GzipCompress(std::string_view in) {
  z_stream zs{};
  if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out;
  out.resize(deflateBound(&zs, in.size()) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END ? out : std::string();
}

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Closes the connection from any thread (Stop()).
  virtual void Close() = 0;
};

struct HttpServer::Impl {
  explicit Impl(int threads) : ioc(threads) {}
  // First, so they outlive every member below: handlers still queued in `ioc` or
  // `auth_pool` when those are destroyed own sessions, whose destructors count down.
  std::atomic<size_t> connections{0};
  std::atomic<size_t> in_flight{0};
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> body_limit_hits{0};
  std::atomic<uint64_t> connection_limit_hits{0};
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;
  // bcrypt runs here, one check at a time, so a wrong-password flood neither blocks
  // the I/O threads nor takes more than one core (basic_auth.h).
  net::thread_pool auth_pool{1};
  absl::Mutex mu;
  std::set<std::weak_ptr<SessionBase>, std::owner_less<std::weak_ptr<SessionBase>>> sessions
      ABSL_GUARDED_BY(mu);
};

namespace {

using TlsStream = beast::ssl_stream<beast::tcp_stream>;
constexpr bool IsTls(const beast::tcp_stream*) { return false; }
constexpr bool IsTls(const TlsStream*) { return true; }

// What Go's net/http answers to plain HTTP on a TLS port (Prometheus does the same).
constexpr std::string_view kPlainHttpToTls =
    "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";
constexpr auto kTlsShutdownTimeout = std::chrono::seconds(5);

}  // namespace

// One connection: (TLS handshake,) read a request, check its credentials, dispatch,
// write the response, repeat while the client keeps the connection alive. Templated on
// the stream so the plain path carries no TLS branch or indirection per read/write.
template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = IsTls(static_cast<const Stream*>(nullptr));

  Session(tcp::socket socket, HttpServer* server, HttpServer::Impl* impl,
          const HttpServer::Options& options, const HttpServer::Observer* observer,
          std::shared_ptr<const WebSecurity::State> security)
      : stream_(MakeStream(std::move(socket), security.get())),
        server_(server),
        impl_(impl),
        options_(options),
        observer_(observer),
        security_(std::move(security)) {
    beast::error_code ec;
    auto ep = Socket().remote_endpoint(ec);
    if (!ec) remote_ = absl::StrCat(ep.address().to_string(), ":", ep.port());
  }
  ~Session() override { impl_->connections.fetch_sub(1); }

  void Start() {
    net::dispatch(Lowest().get_executor(), [self = this->shared_from_this()] {
      if constexpr (kTls) {
        self->DetectTls();
      } else {
        self->Read();
      }
    });
  }

  void Close() override {
    net::post(Lowest().get_executor(), [self = this->shared_from_this()] {
      beast::error_code ec;
      self->Socket().shutdown(tcp::socket::shutdown_both, ec);
      self->Lowest().close();
    });
  }

 private:
  static Stream MakeStream(tcp::socket socket, const WebSecurity::State* security) {
    if constexpr (kTls) {
      // The handshake and each response are several small TLS records; with Nagle
      // the last one waits for the client's delayed ACK (~40 ms per new connection
      // measured with ab before this).
      beast::error_code ec;
      socket.set_option(tcp::no_delay(true), ec);
      return Stream(beast::tcp_stream(std::move(socket)), *security->tls);
    } else {
      (void)security;
      return Stream(std::move(socket));
    }
  }
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }
  tcp::socket& Socket() { return Lowest().socket(); }

  // Peeks at the first bytes: a TLS ClientHello goes on to the handshake (with the
  // bytes already read), anything else is answered in plain text and closed.
  void DetectTls() {
    Lowest().expires_after(std::chrono::seconds(options_.read_timeout_seconds));
    beast::async_detect_ssl(Lowest(), buffer_,
                            [self = this->shared_from_this()](beast::error_code ec, bool is_tls) {
                              if (ec) return self->Lowest().close();
                              if (!is_tls) return self->RefusePlainHttp();
                              self->Handshake();
                            });
  }

  void RefusePlainHttp() {
    // Through the tcp_stream, so the timeout set in DetectTls bounds the write too.
    net::async_write(Lowest(), net::buffer(kPlainHttpToTls.data(), kPlainHttpToTls.size()),
                     [self = this->shared_from_this()](beast::error_code, size_t) {
                       beast::error_code ec;
                       self->Socket().shutdown(tcp::socket::shutdown_send, ec);
                       self->Lowest().close();
                     });
  }

  void Handshake() {
    if constexpr (kTls) {
      stream_.async_handshake(
          net::ssl::stream_base::server, buffer_.data(),
          [self = this->shared_from_this()](beast::error_code ec, size_t used) {
            if (ec) return self->Lowest().close();  // bad certificate, protocol, timeout
            self->buffer_.consume(used);
            self->Read();
          });
    }
  }

  void Read() {
    if (impl_->stopping.load()) return DoClose();
    parser_.emplace();
    parser_->body_limit(options_.max_body_bytes);
    parser_->header_limit(static_cast<uint32_t>(options_.max_header_bytes));
    Lowest().expires_after(std::chrono::seconds(first_ ? options_.read_timeout_seconds
                                                       : options_.idle_timeout_seconds));
    first_ = false;
    if (security_ != nullptr && security_->auth != nullptr) {
      // Credentials are checked on the header, before a body is read or buffered.
      http::async_read_header(
          stream_, buffer_, *parser_,
          [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnRead(ec);
    const auto& fields = parser_->get();
    auto it = fields.find(http::field::authorization);
    std::string authorization = it == fields.end() ? std::string() : std::string(it->value());
    const BasicAuthenticator* auth = security_->auth.get();
    if (auth->CheckCached(authorization)) return ReadBody();
    if (authorization.empty()) return OnAuth(false);
    // bcrypt off the I/O threads; the answer comes back on this session's strand.
    net::post(impl_->auth_pool,
              [self = this->shared_from_this(), auth, authorization = std::move(authorization)] {
                bool ok = auth->Check(authorization);
                net::post(self->Lowest().get_executor(), [self, ok] { self->OnAuth(ok); });
              });
  }

  void OnAuth(bool ok) {
    if (ok) return ReadBody();
    // The body is not read, so the connection cannot be reused.
    keep_alive_ = false;
    HttpResponse r;
    r.status = 401;
    r.body = "Unauthorized\n";
    r.headers.emplace_back("WWW-Authenticate", "Basic");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    BuildResponse(std::move(r), false, parser_->get().version());
    if (*observer_) (*observer_)("", 401, 0);
    Write();
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted) {
      return DoClose();
    }
    if (ec == http::error::body_limit) {
      impl_->body_limit_hits.fetch_add(1, std::memory_order_relaxed);
      return WriteError(
          413, absl::StrCat("request body larger than ", options_.max_body_bytes, " bytes"));
    }
    if (ec == http::error::header_limit) return WriteError(431, "request headers too large");
    if (ec) {
      if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
        return WriteError(400, absl::StrCat("malformed HTTP request: ", ec.message()));
      }
      return DoClose();
    }
    impl_->in_flight.fetch_add(1);
    auto start = std::chrono::steady_clock::now();
    http::request<http::string_body> req = parser_->release();
    HttpRequest hreq;
    HttpResponse hresp;
    std::string handler_name;
    keep_alive_ = req.keep_alive();
    if (ConvertRequest(req, &hreq, &hresp)) server_->Dispatch(hreq, &hresp, &handler_name);
    bool gzip = hresp.body.size() >= kGzipMinBytes && AcceptsGzip(hreq.Header("accept-encoding"));
    BuildResponse(std::move(hresp), gzip, req.version());
    if (*observer_) {
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      (*observer_)(handler_name, res_.result_int(), secs);
    }
    impl_->in_flight.fetch_sub(1);
    Write();
  }

  bool ConvertRequest(const http::request<http::string_body>& req, HttpRequest* out,
                      HttpResponse* err) {
    out->method = std::string(req.method_string());
    std::string_view target(req.target().data(), req.target().size());
    size_t q = target.find('?');
    if (!UrlDecode(target.substr(0, q), false, &out->path) ||
        (q != std::string_view::npos && !ParseUrlEncoded(target.substr(q + 1), &out->params))) {
      err->status = 400;
      err->body = "malformed URL encoding in request target";
      return false;
    }
    if (q != std::string_view::npos) out->raw_query = std::string(target.substr(q + 1));
    for (const auto& f : req) {
      out->headers.emplace_back(absl::AsciiStrToLower(Sv(std::string_view(f.name_string().data(),
                                                                          f.name_string().size()))),
                                std::string(f.value()));
    }
    out->body = req.body();
    out->remote_address = remote_;
    std::string_view ctype = out->Header("content-type");
    if (out->method == "POST" && absl::StartsWith(Sv(ctype), "application/x-www-form-urlencoded")) {
      if (!ParseUrlEncoded(out->body, &out->params)) {
        err->status = 400;
        err->body = "malformed URL encoding in form body";
        return false;
      }
    }
    return true;
  }

  void BuildResponse(HttpResponse resp, bool gzip, unsigned version) {
    res_ = {};
    res_.version(version);
    res_.result(static_cast<unsigned>(resp.status));
    res_.set(http::field::server, "cairn");
    // An empty content type sends none (204 answers, as Prometheus).
    if (!resp.content_type.empty()) res_.set(http::field::content_type, resp.content_type);
    // The web config's headers first, so a handler's own header wins (as in
    // exporter-toolkit, which sets them before calling the handler).
    if (security_ != nullptr) {
      for (const auto& [k, v] : security_->config.headers) res_.set(k, v);
    }
    for (auto& [k, v] : resp.headers) res_.set(k, v);
    if (gzip) {
      std::string z = GzipCompress(resp.body);
      if (!z.empty()) {
        res_.set(http::field::content_encoding, "gzip");
        res_.set(http::field::vary, "Accept-Encoding");
        resp.body = std::move(z);
      }
    }
    res_.body() = std::move(resp.body);
    res_.keep_alive(keep_alive_ && !impl_->stopping.load());
    res_.prepare_payload();
  }

  void WriteError(int status, std::string message) {
    keep_alive_ = false;
    HttpResponse r;
    r.status = status;
    r.body = std::move(message);
    BuildResponse(std::move(r), false, 11);
    Write();
  }

  void Write() {
    Lowest().expires_after(std::chrono::seconds(options_.read_timeout_seconds));
    http::async_write(stream_, res_,
                      [self = this->shared_from_this()](beast::error_code ec, size_t) {
                        if (ec || !self->res_.keep_alive()) return self->DoClose();
                        self->Read();
                      });
  }

  void DoClose() {
    if constexpr (kTls) {
      // close_notify, bounded: a peer that never answers costs at most the timeout.
      Lowest().expires_after(kTlsShutdownTimeout);
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->Lowest().close(); });
    } else {
      beast::error_code ec;
      Socket().shutdown(tcp::socket::shutdown_send, ec);
      Lowest().close();
    }
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  HttpServer* server_;
  HttpServer::Impl* impl_;
  const HttpServer::Options& options_;
  const HttpServer::Observer* observer_;
  // Null without --web.config.file. Held for the connection's lifetime: it owns the
  // TLS context and the authenticator this connection uses, whatever reloads happen.
  const std::shared_ptr<const WebSecurity::State> security_;
  std::string remote_;
  bool keep_alive_ = true;
  bool first_ = true;
};

HttpServer::HttpServer(Options options) : options_(std::move(options)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Route(std::string path, Handler handler, bool prefix) {
  routes_[std::move(path)] = {std::move(handler), prefix};
}

void HttpServer::Dispatch(const HttpRequest& req, HttpResponse* resp,
                          std::string* handler_name) const {
  auto exact = routes_.find(req.path);
  const Handler* h = nullptr;
  if (exact != routes_.end()) {
    h = &exact->second.first;
    *handler_name = exact->first;
  } else {
    size_t best = 0;
    for (const auto& [path, route] : routes_) {
      if (route.second && absl::StartsWith(Sv(req.path), Sv(path)) && path.size() >= best) {
        best = path.size();
        h = &route.first;
        *handler_name = path;
      }
    }
  }
  if (h == nullptr) {
    resp->status = 404;
    resp->body = "404 page not found\n";
    return;
  }
  (*h)(req, resp);
}

namespace {

template <class Stream>
void StartSession(tcp::socket socket, HttpServer* server, HttpServer::Impl* impl,
                  const HttpServer::Options* options, const HttpServer::Observer* observer,
                  std::shared_ptr<const WebSecurity::State> security) {
  auto s = std::make_shared<Session<Stream>>(std::move(socket), server, impl, *options, observer,
                                             std::move(security));
  {
    absl::MutexLock l(&impl->mu);
    for (auto it = impl->sessions.begin(); it != impl->sessions.end();) {
      it = it->expired() ? impl->sessions.erase(it) : std::next(it);
    }
    impl->sessions.insert(s);
  }
  s->Start();
}

// Answers a connection over the limit with 503 and closes it. The write is one small
// non-blocking send into an empty socket buffer, so it cannot stall the acceptor; if
// it fails the client just sees the connection closed.
void RefuseConnection(tcp::socket socket, size_t limit) {
  std::string body = absl::StrCat("too many open connections: the limit is ", limit, "\n");
  std::string msg = absl::StrCat(
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Length: ",
      body.size(), "\r\nConnection: close\r\n\r\n", body);
  beast::error_code ec;
  socket.non_blocking(true, ec);
  if (!ec) socket.write_some(net::buffer(msg), ec);
  socket.shutdown(tcp::socket::shutdown_send, ec);
  socket.close(ec);
}

void Accept(HttpServer* server, HttpServer::Impl* impl, const HttpServer::Options* options,
            const HttpServer::Observer* observer, WebSecurity* security) {
  impl->acceptor.async_accept(
      net::make_strand(impl->ioc),
      [server, impl, options, observer, security](beast::error_code ec, tcp::socket socket) {
        if (ec) {
          if (ec == net::error::operation_aborted || impl->stopping.load()) return;
        } else if (impl->connections.load() >= options->max_connections) {
          impl->connection_limit_hits.fetch_add(1, std::memory_order_relaxed);
          RefuseConnection(std::move(socket), options->max_connections);
        } else {
          impl->connections.fetch_add(1);
          // Each connection uses the web config current when it was accepted.
          std::shared_ptr<const WebSecurity::State> state =
              security != nullptr ? security->Current() : nullptr;
          if (state != nullptr && state->tls != nullptr) {
            StartSession<TlsStream>(std::move(socket), server, impl, options, observer,
                                    std::move(state));
          } else {
            StartSession<beast::tcp_stream>(std::move(socket), server, impl, options, observer,
                                            std::move(state));
          }
        }
        if (!impl->stopping.load()) Accept(server, impl, options, observer, security);
      });
}

}  // namespace

absl::Status HttpServer::Start() {
  std::string_view addr = options_.listen_address;
  size_t colon = addr.rfind(':');
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address \"", Sv(addr), "\": expected host:port"));
  }
  std::string host(addr.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  int port;
  if (!absl::SimpleAtoi(Sv(addr.substr(colon + 1)), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("listen address \"", Sv(addr), "\": bad port"));
  }
  impl_ = std::make_unique<Impl>(options_.threads);
  beast::error_code ec;
  auto ip = net::ip::make_address(host, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address \"", Sv(addr), "\": ", ec.message()));
  }
  tcp::endpoint ep(ip, static_cast<uint16_t>(port));
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("listen on ", Sv(addr), ": ", ec.message()));
  }
  port_ = impl_->acceptor.local_endpoint().port();
  Accept(this, impl_.get(), &options_, &observer_, security_);
  for (int i = 0; i < options_.threads; ++i) {
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  }
  return absl::OkStatus();
}

HttpServer::LimitHits HttpServer::limit_hits() const {
  LimitHits h;
  if (impl_ != nullptr) {
    h.body_bytes = impl_->body_limit_hits.load(std::memory_order_relaxed);
    h.connections = impl_->connection_limit_hits.load(std::memory_order_relaxed);
  }
  return h;
}

void HttpServer::Stop() {
  if (impl_ == nullptr || impl_->stopping.exchange(true)) return;
  net::post(impl_->ioc, [impl = impl_.get()] {
    beast::error_code ec;
    impl->acceptor.close(ec);
  });
  auto deadline = std::chrono::steady_clock::now() + kStopGrace;
  while (impl_->in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  {
    absl::MutexLock l(&impl_->mu);
    for (const auto& w : impl_->sessions) {
      if (auto s = w.lock()) s->Close();
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  impl_->auth_pool.stop();
  impl_->auth_pool.join();
}

}  // namespace cairn::server
