#include "server/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::server {
namespace {

int OpenSslVersion(TlsVersion v) {
  switch (v) {
    case TlsVersion::kTls10:
      return TLS1_VERSION;
    case TlsVersion::kTls11:
      return TLS1_1_VERSION;
    case TlsVersion::kTls12:
      return TLS1_2_VERSION;
    case TlsVersion::kTls13:
      return TLS1_3_VERSION;
    case TlsVersion::kUnset:
      break;
  }
  return 0;  // 0: the library's lowest / highest
}

// Checks the file can be opened, so the error names it and says why (OpenSSL's own
// messages only say "system library").
absl::Status Readable(std::string_view field, const std::string& path) {
  std::ifstream f(path);
  if (!f) {
    return absl::NotFoundError(
        absl::StrCat("tls_server_config ", Sv(field), " ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

// Accepts any client certificate: RequestClientCert and RequireAnyClientCert ask for
// one but, as in Go, do not verify it.
int AcceptAnyCertificate(int, X509_STORE_CTX*) { return 1; }

}  // namespace

std::string OpenSslErrors() {
  std::vector<std::string> parts;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    parts.emplace_back(buf);
  }
  return parts.empty() ? "unknown OpenSSL error" : absl::StrJoin(parts, "; ");
}

absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const TlsServerConfig& config) {
  auto ctx = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  ERR_clear_error();
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (config.prefer_server_cipher_suites) {
    SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE);
  }
  if (SSL_CTX_set_min_proto_version(native, OpenSslVersion(config.min_version)) != 1 ||
      SSL_CTX_set_max_proto_version(native, OpenSslVersion(config.max_version)) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls_server_config: TLS version range: ", OpenSslErrors()));
  }
  if (!config.cipher_suites.empty() &&
      SSL_CTX_set_cipher_list(native, absl::StrJoin(config.cipher_suites, ":").c_str()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls_server_config cipher_suites: ", OpenSslErrors()));
  }
  if (!config.curve_preferences.empty() &&
      SSL_CTX_set1_groups_list(native, absl::StrJoin(config.curve_preferences, ":").c_str()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls_server_config curve_preferences: ", OpenSslErrors()));
  }
  if (absl::Status s = Readable("cert_file", config.cert_file); !s.ok()) return s;
  if (SSL_CTX_use_certificate_chain_file(native, config.cert_file.c_str()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls_server_config cert_file ", config.cert_file, ": ", OpenSslErrors()));
  }
  if (absl::Status s = Readable("key_file", config.key_file); !s.ok()) return s;
  if (SSL_CTX_use_PrivateKey_file(native, config.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls_server_config key_file ", config.key_file, ": ", OpenSslErrors()));
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("tls_server_config: key_file ", config.key_file,
                                                   " does not match cert_file ", config.cert_file,
                                                   ": ", OpenSslErrors()));
  }
  if (!config.client_ca_file.empty()) {
    if (absl::Status s = Readable("client_ca_file", config.client_ca_file); !s.ok()) return s;
    if (SSL_CTX_load_verify_locations(native, config.client_ca_file.c_str(), nullptr) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("tls_server_config client_ca_file ",
                                                     config.client_ca_file, ": ", OpenSslErrors()));
    }
    // Tells clients which CAs are accepted (Go sends the same list).
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.client_ca_file.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(native, names);  // takes ownership
  } else if (SSL_CTX_set_default_verify_paths(native) != 1) {
    // Go verifies against the system pool when no client CA is given.
    return absl::UnavailableError(
        absl::StrCat("tls_server_config: loading the system CAs: ", OpenSslErrors()));
  }
  switch (config.client_auth_type) {
    case ClientAuthType::kNoClientCert:
      SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
      break;
    case ClientAuthType::kRequestClientCert:
      SSL_CTX_set_verify(native, SSL_VERIFY_PEER, AcceptAnyCertificate);
      break;
    case ClientAuthType::kRequireAnyClientCert:
      SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                         AcceptAnyCertificate);
      break;
    case ClientAuthType::kVerifyClientCertIfGiven:
      SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
      break;
    case ClientAuthType::kRequireAndVerifyClientCert:
      SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      break;
  }
  // TLS 1.3 session tickets are fine; a session id context is required by OpenSSL
  // once client certificates are verified and sessions may be resumed.
  static const unsigned char kSessionContext[] = "cairn";
  SSL_CTX_set_session_id_context(native, kSessionContext, sizeof(kSessionContext) - 1);
  return ctx;
}

}  // namespace cairn::server
