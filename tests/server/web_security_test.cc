// HTTP server under --web.config.file: TLS, mutual TLS, basic auth, headers and
// reload, checked with libcurl against certificates made by `openssl`.
#include "server/web_security.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gtest/gtest.h"
#include "server/basic_auth.h"
#include "server/http_server.h"
#include "tests/server/web_test_certs.h"

namespace cairn::server {
namespace {

using testing::ExternalBcrypt;
using testing::HaveCommand;
using testing::TestCerts;
using testing::WriteFile;

struct CurlReply {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::string headers;
};

struct CurlOptions {
  std::string ca;         // CA file; "" verifies against the system store
  std::string cert, key;  // client certificate
  std::string userpwd;    // "user:password"
  std::string post_body;  // non-empty: POST it
};

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// One request on `curl` (reused handles keep their connection alive).
CurlReply Fetch(CURL* curl, const std::string& url, const CurlOptions& o) {
  CurlReply r;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, Append);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_CAINFO, o.ca.empty() ? nullptr : o.ca.c_str());
  curl_easy_setopt(curl, CURLOPT_SSLCERT, o.cert.empty() ? nullptr : o.cert.c_str());
  curl_easy_setopt(curl, CURLOPT_SSLKEY, o.key.empty() ? nullptr : o.key.c_str());
  curl_easy_setopt(curl, CURLOPT_USERPWD, o.userpwd.empty() ? nullptr : o.userpwd.c_str());
  if (!o.post_body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, o.post_body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(o.post_body.size()));
  }
  r.code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  return r;
}

CurlReply Fetch(const std::string& url, const CurlOptions& o = {}) {
  CURL* curl = curl_easy_init();
  CurlReply r = Fetch(curl, url, o);
  curl_easy_cleanup(curl);
  return r;
}

class WebSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveCommand("openssl")) GTEST_SKIP() << "openssl command not installed";
    std::string err;
    ASSERT_TRUE(certs_.Generate(&err)) << "openssl failed: " << err;
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Stop();
  }

  // Writes web.yml into the certificate folder (so relative paths are exercised)
  // and starts a server with one route.
  void Start(const std::string& web_yml, int read_timeout_seconds = 60,
             size_t max_body_bytes = 32 << 20) {
    WriteFile(certs_.path("web.yml"), web_yml);
    absl::StatusOr<std::unique_ptr<WebSecurity>> ws =
        WebSecurity::Load(certs_.path("web.yml"), check_interval_);
    ASSERT_TRUE(ws.ok()) << ws.status();
    security_ = std::move(*ws);
    HttpServer::Options o;
    o.listen_address = "127.0.0.1:0";
    o.threads = 2;
    o.read_timeout_seconds = read_timeout_seconds;
    o.max_body_bytes = max_body_bytes;
    server_ = std::make_unique<HttpServer>(o);
    server_->Route("/ok", [](const HttpRequest&, HttpResponse* resp) { resp->body = "fine\n"; });
    server_->Route("/-/healthy",
                   [](const HttpRequest&, HttpResponse* resp) { resp->body = "Healthy\n"; });
    server_->SetSecurity(security_.get());
    ASSERT_TRUE(server_->Start().ok());
  }
  std::string Url(const std::string& scheme, const std::string& path) const {
    return scheme + "://localhost:" + std::to_string(server_->port()) + path;
  }

  TestCerts certs_;
  // Automatic change checks off unless a test turns them on (zero: every connection).
  absl::Duration check_interval_ = -absl::Seconds(1);
  std::unique_ptr<WebSecurity> security_;
  std::unique_ptr<HttpServer> server_;
};

constexpr char kTls[] = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n";

TEST_F(WebSecurityTest, TlsRequestWithTheCaSucceeds) {
  Start(std::string(kTls) +
        "http_server_config:\n  headers:\n    Strict-Transport-Security: max-age=60\n");
  CurlReply r = Fetch(Url("https", "/ok"), {.ca = certs_.path("ca.crt")});
  ASSERT_EQ(r.code, CURLE_OK) << curl_easy_strerror(r.code);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "fine\n");
  EXPECT_NE(r.headers.find("Strict-Transport-Security: max-age=60"), std::string::npos)
      << r.headers;
  // Keep-alive over TLS: a second request on the same handle.
  CURL* curl = curl_easy_init();
  for (int i = 0; i < 3; ++i) {
    CurlReply k = Fetch(curl, Url("https", "/ok"), {.ca = certs_.path("ca.crt")});
    EXPECT_EQ(k.code, CURLE_OK) << curl_easy_strerror(k.code);
    EXPECT_EQ(k.body, "fine\n");
  }
  long connects = -1;
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
  EXPECT_EQ(connects, 0);  // the last request reused the connection
  curl_easy_cleanup(curl);
}

TEST_F(WebSecurityTest, UntrustedServerCertificateFails) {
  Start(kTls);
  // Verified against the system CAs, which do not include the test CA.
  CurlReply r = Fetch(Url("https", "/ok"), {.ca = certs_.path("rogue.crt")});
  EXPECT_NE(r.code, CURLE_OK);
  EXPECT_EQ(r.status, 0);
}

TEST_F(WebSecurityTest, PlainHttpToTlsPortIsRefused) {
  Start(kTls);
  CurlReply r = Fetch(Url("http", "/ok"));
  EXPECT_NE(r.body, "fine\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("Client sent an HTTP request to an HTTPS server."), std::string::npos)
      << r.body;
  // The server still serves TLS afterwards.
  EXPECT_EQ(Fetch(Url("https", "/ok"), {.ca = certs_.path("ca.crt")}).status, 200);
}

TEST_F(WebSecurityTest, MutualTlsRequiresACertificateFromTheCa) {
  Start(std::string(kTls) +
        "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n");
  CurlReply none = Fetch(Url("https", "/ok"), {.ca = certs_.path("ca.crt")});
  EXPECT_NE(none.code, CURLE_OK);
  EXPECT_NE(none.body, "fine\n");
  CurlReply rogue = Fetch(Url("https", "/ok"), {.ca = certs_.path("ca.crt"),
                                                .cert = certs_.path("rogue.crt"),
                                                .key = certs_.path("rogue.key")});
  EXPECT_NE(rogue.code, CURLE_OK);
  EXPECT_NE(rogue.body, "fine\n");
  CurlReply good = Fetch(Url("https", "/ok"), {.ca = certs_.path("ca.crt"),
                                               .cert = certs_.path("client.crt"),
                                               .key = certs_.path("client.key")});
  ASSERT_EQ(good.code, CURLE_OK) << curl_easy_strerror(good.code);
  EXPECT_EQ(good.body, "fine\n");
}

TEST_F(WebSecurityTest, VerifyClientCertIfGivenAcceptsNoneButRefusesARogueOne) {
  Start(std::string(kTls) +
        "  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.crt\n");
  EXPECT_EQ(Fetch(Url("https", "/ok"), {.ca = certs_.path("ca.crt")}).body, "fine\n");
  CurlReply rogue = Fetch(Url("https", "/ok"), {.ca = certs_.path("ca.crt"),
                                                .cert = certs_.path("rogue.crt"),
                                                .key = certs_.path("rogue.key")});
  EXPECT_NE(rogue.body, "fine\n");
}

TEST_F(WebSecurityTest, RequireAnyClientCertAcceptsAnUnverifiedOne) {
  Start(std::string(kTls) + "  client_auth_type: RequireAnyClientCert\n");
  EXPECT_NE(Fetch(Url("https", "/ok"), {.ca = certs_.path("ca.crt")}).body, "fine\n");
  CurlReply rogue = Fetch(Url("https", "/ok"), {.ca = certs_.path("ca.crt"),
                                                .cert = certs_.path("rogue.crt"),
                                                .key = certs_.path("rogue.key")});
  EXPECT_EQ(rogue.body, "fine\n") << curl_easy_strerror(rogue.code);
}

TEST_F(WebSecurityTest, BasicAuth) {
  std::string hash = ExternalBcrypt("s3cret pass");
  if (hash.empty()) GTEST_SKIP() << "neither htpasswd nor python3 crypt available";
  Start("basic_auth_users:\n  alice: " + hash + "\n");
  for (const char* path : {"/ok", "/-/healthy", "/nonexistent"}) {
    CurlReply none = Fetch(Url("http", path));
    EXPECT_EQ(none.status, 401) << path;
    EXPECT_NE(none.headers.find("WWW-Authenticate: Basic"), std::string::npos) << none.headers;
    EXPECT_EQ(none.body, "Unauthorized\n");
  }
  EXPECT_EQ(Fetch(Url("http", "/ok"), {.userpwd = "alice:wrong"}).status, 401);
  EXPECT_EQ(Fetch(Url("http", "/ok"), {.userpwd = "bob:s3cret pass"}).status, 401);
  EXPECT_EQ(Fetch(Url("http", "/ok"), {.userpwd = "alice:s3cret pas"}).status, 401);
  const BasicAuthenticator* auth = security_->Current()->auth.get();
  EXPECT_EQ(auth->cached_logins(), 0u);  // failures are not cached

  CURL* curl = curl_easy_init();
  for (int i = 0; i < 3; ++i) {
    CurlReply r = Fetch(curl, Url("http", "/ok"), {.userpwd = "alice:s3cret pass"});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "fine\n");
  }
  curl_easy_cleanup(curl);
  EXPECT_EQ(Fetch(Url("http", "/nonexistent"), {.userpwd = "alice:s3cret pass"}).status, 404);
  EXPECT_EQ(auth->cached_logins(), 1u);
  // A cached login does not let a wrong password through.
  EXPECT_EQ(Fetch(Url("http", "/ok"), {.userpwd = "alice:wrong"}).status, 401);
}

TEST_F(WebSecurityTest, BasicAuthOverTls) {
  std::string hash = ExternalBcrypt("pw");
  if (hash.empty()) GTEST_SKIP() << "neither htpasswd nor python3 crypt available";
  Start(std::string(kTls) + "basic_auth_users:\n  alice: " + hash + "\n");
  EXPECT_EQ(Fetch(Url("https", "/ok"), {.ca = certs_.path("ca.crt")}).status, 401);
  CurlReply r = Fetch(Url("https", "/ok"), {.ca = certs_.path("ca.crt"), .userpwd = "alice:pw"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "fine\n");
}

TEST_F(WebSecurityTest, ReloadAppliesToNewConnections) {
  std::string hash = ExternalBcrypt("pw");
  if (hash.empty()) GTEST_SKIP() << "neither htpasswd nor python3 crypt available";
  Start("basic_auth_users:\n  alice: " + hash + "\n");
  EXPECT_EQ(Fetch(Url("http", "/ok")).status, 401);
  // A broken file is refused and the running config stays.
  WriteFile(certs_.path("web.yml"), "basic_auth_users: [\n");
  EXPECT_FALSE(security_->Reload().ok());
  EXPECT_EQ(Fetch(Url("http", "/ok")).status, 401);
  // Switching to TLS without auth.
  WriteFile(certs_.path("web.yml"), kTls);
  ASSERT_TRUE(security_->Reload().ok());
  EXPECT_EQ(Fetch(Url("https", "/ok"), {.ca = certs_.path("ca.crt")}).body, "fine\n");
}

TEST_F(WebSecurityTest, BodyLimitHoldsUnderTls) {
  Start(kTls, 60, /*max_body_bytes=*/1024);
  CurlReply small = Fetch(Url("https", "/ok"), {.ca = certs_.path("ca.crt"), .post_body = "x"});
  EXPECT_EQ(small.status, 200);
  CurlReply big = Fetch(Url("https", "/ok"),
                        {.ca = certs_.path("ca.crt"), .post_body = std::string(4096, 'x')});
  EXPECT_EQ(big.status, 413);
  EXPECT_NE(big.body.find("request body larger than 1024 bytes"), std::string::npos) << big.body;
}

// Like Prometheus, which re-reads the file per connection: an edited web config or a
// rotated certificate applies to new connections without a signal.
TEST_F(WebSecurityTest, ChangedFilesApplyToNewConnections) {
  std::string hash = ExternalBcrypt("pw");
  if (hash.empty()) GTEST_SKIP() << "neither htpasswd nor python3 crypt available";
  check_interval_ = absl::ZeroDuration();
  Start(kTls);
  const CurlOptions ca{.ca = certs_.path("ca.crt")};
  EXPECT_EQ(Fetch(Url("https", "/ok"), ca).status, 200);
  // Users added: new connections need credentials.
  WriteFile(certs_.path("web.yml"),
            std::string(kTls) + "basic_auth_users:\n  alice: " + hash + "\n");
  EXPECT_EQ(Fetch(Url("https", "/ok"), ca).status, 401);
  // A broken edit keeps the running config.
  WriteFile(certs_.path("web.yml"), std::string(kTls) + "basic_auth_users: [\n");
  EXPECT_EQ(Fetch(Url("https", "/ok"), ca).status, 401);
  EXPECT_EQ(Fetch(Url("https", "/ok"), ca).status, 401);
  // Certificate rotation: the rogue self-signed certificate (CN=rogue, no SAN for
  // localhost) replaces the server's; a client trusting the old CA now fails.
  WriteFile(certs_.path("web.yml"), kTls);
  EXPECT_EQ(Fetch(Url("https", "/ok"), ca).status, 200);
  std::filesystem::copy_file(certs_.path("rogue.crt"), certs_.path("server.crt"),
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(certs_.path("rogue.key"), certs_.path("server.key"),
                             std::filesystem::copy_options::overwrite_existing);
  CurlReply r = Fetch(Url("https", "/ok"), ca);
  EXPECT_NE(r.code, CURLE_OK);
  EXPECT_EQ(r.code, CURLE_PEER_FAILED_VERIFICATION) << curl_easy_strerror(r.code);
}

// A client that connects and stalls, before or inside the TLS handshake, is
// disconnected by the read timeout (no slot held forever).
TEST_F(WebSecurityTest, StalledHandshakeIsClosedByTheReadTimeout) {
  Start(kTls, /*read_timeout_seconds=*/1);
  for (const std::string& first_bytes : {std::string(), std::string("\x16\x03\x01", 3)}) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(server_->port()));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    timeval tv{.tv_sec = 60, .tv_usec = 0};  // only bounds a broken server; never expected
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (!first_bytes.empty()) {
      ASSERT_EQ(write(fd, first_bytes.data(), first_bytes.size()), (ssize_t)first_bytes.size());
    }
    char buf[64];
    EXPECT_EQ(read(fd, buf, sizeof(buf)), 0) << "the server did not close the connection";
    close(fd);
  }
}

TEST_F(WebSecurityTest, MissingCertificateFileFailsAtLoad) {
  WriteFile(certs_.path("web.yml"),
            "tls_server_config:\n  cert_file: nope.crt\n  key_file: "
            "server.key\n");
  absl::StatusOr<std::unique_ptr<WebSecurity>> ws = WebSecurity::Load(certs_.path("web.yml"));
  ASSERT_FALSE(ws.ok());
  EXPECT_NE(ws.status().message().find(certs_.path("nope.crt")), std::string::npos) << ws.status();
  EXPECT_NE(ws.status().message().find(certs_.path("web.yml")), std::string::npos) << ws.status();
  // A key that does not belong to the certificate.
  WriteFile(certs_.path("web.yml"),
            "tls_server_config:\n  cert_file: server.crt\n  key_file: client.key\n");
  ws = WebSecurity::Load(certs_.path("web.yml"));
  ASSERT_FALSE(ws.ok());
  EXPECT_NE(ws.status().message().find("key values mismatch"), std::string::npos) << ws.status();
  EXPECT_NE(ws.status().message().find(certs_.path("client.key")), std::string::npos);
}

}  // namespace
}  // namespace cairn::server
