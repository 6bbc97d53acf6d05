#include "server/web_config.h"

#include "gtest/gtest.h"

namespace cairn::server {
namespace {

TEST(WebConfigTest, FullConfigWithRelativePaths) {
  absl::StatusOr<WebConfig> c = ParseWebConfig(R"(
tls_server_config:
  cert_file: server.crt
  key_file: /abs/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: sub/../ca.crt
  min_version: TLS13
  max_version: TLS13
  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]
  curve_preferences: [X25519, CurveP256]
  prefer_server_cipher_suites: false
http_server_config:
  http2: true
  headers:
    X-Frame-Options: deny
    Strict-Transport-Security: max-age=31536000
basic_auth_users:
  alice: $2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze
)",
                                               "/etc/cairn/web.yml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->tls_enabled);
  EXPECT_EQ(c->tls.cert_file, "/etc/cairn/server.crt");
  EXPECT_EQ(c->tls.key_file, "/abs/server.key");
  EXPECT_EQ(c->tls.client_ca_file, "/etc/cairn/ca.crt");
  EXPECT_EQ(c->tls.client_auth_type, ClientAuthType::kRequireAndVerifyClientCert);
  EXPECT_EQ(c->tls.min_version, TlsVersion::kTls13);
  EXPECT_EQ(c->tls.max_version, TlsVersion::kTls13);
  EXPECT_EQ(c->tls.cipher_suites, std::vector<std::string>{"ECDHE-RSA-AES128-GCM-SHA256"});
  EXPECT_EQ(c->tls.curve_preferences, (std::vector<std::string>{"X25519", "P-256"}));
  EXPECT_FALSE(c->tls.prefer_server_cipher_suites);
  ASSERT_EQ(c->headers.size(), 2u);
  EXPECT_EQ(c->headers[0].first, "X-Frame-Options");
  EXPECT_EQ(c->basic_auth_users.at("alice"),
            "$2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze");
}

TEST(WebConfigTest, EmptyFileAndDefaults) {
  absl::StatusOr<WebConfig> c = ParseWebConfig("", "web.yml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->tls_enabled);
  EXPECT_TRUE(c->basic_auth_users.empty());
  c = ParseWebConfig("tls_server_config:\n  cert_file: a\n  key_file: b\n", "web.yml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->tls.cert_file, "a");  // relative to "." for a bare file name
  EXPECT_EQ(c->tls.min_version, TlsVersion::kTls12);
  EXPECT_EQ(c->tls.client_auth_type, ClientAuthType::kNoClientCert);
}

// Each error names the file and the line of the offending field.
TEST(WebConfigTest, Errors) {
  struct Case {
    std::string yaml;
    std::string want;  // substring of the message
  };
  const Case cases[] = {
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  bogus: 1\n",
       "web.yml:4: field bogus not found in type web.TLSStruct"},
      {"tls_server_configs: {}\n",
       "web.yml:1: field tls_server_configs not found in type web.Config"},
      {"tls_server_config:\n  cert_file: a\n", "web.yml:2: tls_server_config: missing key_file"},
      {"tls_server_config:\n  key_file: a\n", "missing cert_file"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Sometimes\n",
       "web.yml:4: field client_auth_type: invalid ClientAuth \"Sometimes\""},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: c\n",
       "client_ca_file is set but client_auth_type is NoClientCert"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS14\n",
       "web.yml:4: field min_version: unknown TLS version \"TLS14\""},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS13\n  "
       "max_version: TLS12\n",
       "max_version is lower than min_version"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [TLS_FOO]\n",
       "web.yml:4: field cipher_suites: unknown cipher \"TLS_FOO\""},
      {"http_server_config:\n  headers:\n    X-Powered-By: me\n",
       "web.yml:3: field headers: HTTP header \"X-Powered-By\" can not be configured"},
      {"http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
       "invalid value for X-Frame-Options"},
      {"http_server_config:\n  http2: maybe\n",
       "field http2: cannot unmarshal \"maybe\" into bool"},
      {"basic_auth_users:\n  alice: hunter2\n",
       "web.yml:2: field basic_auth_users: the password of user \"alice\" is not a bcrypt hash"},
      {"basic_auth_users: [a]\n", "field basic_auth_users: expected a mapping"},
      {"tls_server_config: [\n", "web.yml:"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<WebConfig> r = ParseWebConfig(c.yaml, "web.yml");
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.want), std::string::npos)
        << "got: " << r.status().message() << "\nwant: " << c.want;
  }
}

TEST(WebConfigTest, ErrorDoesNotEchoAPlainTextPassword) {
  absl::StatusOr<WebConfig> r = ParseWebConfig("basic_auth_users:\n  alice: hunter2\n", "w.yml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("hunter2"), std::string::npos) << r.status();
}

TEST(WebConfigTest, MissingFile) {
  absl::StatusOr<WebConfig> r = LoadWebConfigFile("/nonexistent/web.yml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/nonexistent/web.yml"), std::string::npos);
}

}  // namespace
}  // namespace cairn::server
