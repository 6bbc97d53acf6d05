// The cairn server with --web.config.file: gRPC over TLS and with basic auth, the
// flag reaching both listeners, and logs that never print credentials.
#include <curl/curl.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <snappy.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "server/cairn_server.h"
#include "tests/server/web_test_certs.h"

namespace cairn::server {
namespace {

using testing::ExternalBcrypt;
using testing::HaveCommand;
using testing::TestCerts;
using testing::WriteFile;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

prometheus::WriteRequest OneSample(const std::string& name) {
  prometheus::WriteRequest wr;
  auto* ts = wr.add_timeseries();
  auto* l = ts->add_labels();
  l->set_name("__name__");
  l->set_value(name);
  auto* s = ts->add_samples();
  s->set_timestamp(1000);
  s->set_value(1);
  return wr;
}

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

// Status of one HTTP request through libcurl; `headers` are sent as given.
long HttpStatus(const std::string& url, const std::vector<std::string>& headers,
                const std::string& body = "", const std::string& ca = "") {
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  if (!ca.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca.c_str());
  if (!body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return status;
}

class WebSecurityServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveCommand("openssl")) GTEST_SKIP() << "openssl command not installed";
    std::string err;
    ASSERT_TRUE(certs_.Generate(&err)) << "openssl failed: " << err;
  }
  void TearDown() override { server_.reset(); }

  absl::Status Start(const std::string& web_yml) {
    WriteFile(certs_.path("web.yml"), web_yml);
    WriteFile(certs_.path("empty.yml"), "scrape_configs: []\n");
    ServerFlags f;
    f.storage_path = certs_.path("data");
    f.web_listen_address = "127.0.0.1:0";
    f.grpc_listen_address = "127.0.0.1:0";
    f.config_file = certs_.path("empty.yml");
    f.web_config_file = certs_.path("web.yml");
    f.enable_lifecycle = true;
    server_ = std::make_unique<CairnServer>(f);
    return server_->Start();
  }

  std::unique_ptr<cairn::v1::Ingest::Stub> Stub(std::shared_ptr<grpc::ChannelCredentials> creds) {
    grpc::ChannelArguments args;
    // The certificate names localhost; the channel dials 127.0.0.1.
    args.SetSslTargetNameOverride("localhost");
    return cairn::v1::Ingest::NewStub(grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(server_->grpc_port()), creds, args));
  }

  static grpc::Status Write(cairn::v1::Ingest::Stub* stub, const std::string& authorization = "") {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    if (!authorization.empty()) ctx.AddMetadata("authorization", authorization);
    cairn::v1::WriteResponse resp;
    return stub->Write(&ctx, OneSample("grpc_test"), &resp);
  }

  TestCerts certs_;
  std::unique_ptr<CairnServer> server_;
};

constexpr char kTls[] = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n";

TEST_F(WebSecurityServerTest, GrpcOverTls) {
  ASSERT_TRUE(Start(kTls).ok());
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ReadAll(certs_.path("ca.crt"));
  grpc::Status ok = Write(Stub(grpc::SslCredentials(ssl)).get());
  EXPECT_TRUE(ok.ok()) << ok.error_message();
  grpc::Status plain = Write(Stub(grpc::InsecureChannelCredentials()).get());
  EXPECT_FALSE(plain.ok());
  EXPECT_EQ(plain.error_code(), grpc::StatusCode::UNAVAILABLE) << plain.error_message();
  // The HTTP listener took the same file.
  EXPECT_EQ(HttpStatus("https://localhost:" + std::to_string(server_->http_port()) + "/-/ready", {},
                       "", certs_.path("ca.crt")),
            200);
}

TEST_F(WebSecurityServerTest, GrpcMutualTls) {
  ASSERT_TRUE(Start(std::string(kTls) +
                    "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n")
                  .ok());
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ReadAll(certs_.path("ca.crt"));
  EXPECT_FALSE(Write(Stub(grpc::SslCredentials(ssl)).get()).ok());
  ssl.pem_cert_chain = ReadAll(certs_.path("client.crt"));
  ssl.pem_private_key = ReadAll(certs_.path("client.key"));
  grpc::Status s = Write(Stub(grpc::SslCredentials(ssl)).get());
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(WebSecurityServerTest, GrpcBasicAuth) {
  std::string hash = ExternalBcrypt("pw");
  if (hash.empty()) GTEST_SKIP() << "neither htpasswd nor python3 crypt available";
  ASSERT_TRUE(Start("basic_auth_users:\n  alice: " + hash + "\n").ok());
  auto stub = Stub(grpc::InsecureChannelCredentials());
  EXPECT_EQ(Write(stub.get()).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Write(stub.get(), "Basic " + absl::Base64Escape("alice:nope")).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::Status s = Write(stub.get(), "Basic " + absl::Base64Escape("alice:pw"));
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(WebSecurityServerTest, MissingKeyFileStopsStartup) {
  absl::Status s = Start("tls_server_config:\n  cert_file: server.crt\n  key_file: gone.key\n");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("loading web config"), std::string::npos) << s;
  EXPECT_NE(s.message().find(certs_.path("gone.key")), std::string::npos) << s;
}

// Whatever the server writes to stderr while it serves requests that carry
// credentials (right and wrong, in headers, URLs and query strings), refuses a remote
// write, and reloads a web config with a plain-text password, none of the secrets
// appear.
TEST_F(WebSecurityServerTest, LogsNeverPrintCredentials) {
  std::string hash = ExternalBcrypt("GoodPassw0rd");
  if (hash.empty()) GTEST_SKIP() << "neither htpasswd nor python3 crypt available";
  const std::string log_path = certs_.path("stderr.log");
  fflush(stderr);
  int saved = dup(2);
  int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  dup2(fd, 2);
  close(fd);

  absl::Status started = Start("basic_auth_users:\n  alice: " + hash + "\n");
  if (started.ok()) {
    const std::string base = "http://127.0.0.1:" + std::to_string(server_->http_port());
    const std::string good = "Authorization: Basic " + absl::Base64Escape("alice:GoodPassw0rd");
    const std::string bad = "Authorization: Basic " + absl::Base64Escape("alice:WrongPassw0rd");
    HttpStatus(base + "/-/healthy", {bad});
    HttpStatus(base + "/api/v1/query?query=up&password=UrlSecret1", {good});
    HttpStatus(base + "/api/v1/query?query=up&password=UrlSecret1", {bad});
    // A remote write the server refuses and logs (invalid label name).
    prometheus::WriteRequest wr = OneSample("ok");
    wr.mutable_timeseries(0)->mutable_labels(0)->set_name("0bad");
    std::string raw = wr.SerializeAsString(), body;
    snappy::Compress(raw.data(), raw.size(), &body);
    HttpStatus(base + "/api/v1/write?token=UrlSecret2",
               {good, "Content-Type: application/x-protobuf", "Content-Encoding: snappy"}, body);
    HttpStatus(base + "/api/v1/write", {bad, "Content-Type: application/x-protobuf"}, body);
    // A reload with a plain-text password instead of a hash is refused and logged.
    WriteFile(certs_.path("web.yml"), "basic_auth_users:\n  alice: PlainSecret3\n");
    HttpStatus(base + "/-/reload", {good, "Content-Length: 0"}, "x");
    server_->ReloadConfig().IgnoreError();
    server_->Stop();
  }
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  ASSERT_TRUE(started.ok()) << started;
  const std::string log = ReadAll(log_path);
  // The log is not empty: the refusals above were written to it.
  EXPECT_NE(log.find("remote write from"), std::string::npos) << log;
  EXPECT_NE(log.find("error reloading web config"), std::string::npos) << log;
  for (const std::string& secret :
       {std::string("GoodPassw0rd"), std::string("WrongPassw0rd"), std::string("UrlSecret1"),
        std::string("UrlSecret2"), std::string("PlainSecret3"),
        absl::Base64Escape("alice:GoodPassw0rd"), absl::Base64Escape("alice:WrongPassw0rd"),
        hash}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << "log contains " << secret << ":\n" << log;
  }
}

}  // namespace
}  // namespace cairn::server
