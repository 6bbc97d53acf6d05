// WebConfig: the --web.config.file of Prometheus (exporter-toolkit's web
// configuration format, as read by Prometheus 2.42), parsed and validated. It turns on
// TLS for every HTTP and gRPC connection, client-certificate checks, extra response
// headers and HTTP basic authentication (docs/security.md).
//
//   tls_server_config:
//     cert_file: server.crt            # relative paths are relative to this file's folder
//     key_file: server.key
//     client_auth_type: RequireAndVerifyClientCert
//     client_ca_file: ca.crt
//     min_version: TLS12
//   http_server_config:
//     headers: {Strict-Transport-Security: max-age=31536000}
//   basic_auth_users:
//     alice: $2y$10$...                # bcrypt hash
//
// Parsing only reads YAML: it does not open the certificate files (TlsContext and
// the gRPC credentials do, at start-up and reload, and fail naming the file). Errors
// name the file, the line and the field; unknown fields are refused as Prometheus does.
//
// Thread-safety: plain values.
#ifndef CAIRN_SERVER_WEB_CONFIG_H_
#define CAIRN_SERVER_WEB_CONFIG_H_

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace cairn::server {

// Go's tls.ClientAuthType, under the names exporter-toolkit accepts.
enum class ClientAuthType {
  kNoClientCert,                // no certificate asked for
  kRequestClientCert,           // asked for, not required, not verified
  kRequireAnyClientCert,        // required, not verified
  kVerifyClientCertIfGiven,     // not required, verified against client_ca_file if sent
  kRequireAndVerifyClientCert,  // required and verified (mutual TLS)
};
std::string_view ClientAuthTypeName(ClientAuthType t);

// TLS protocol versions; the numbers are the wire versions' minor parts.
enum class TlsVersion { kUnset = 0, kTls10 = 10, kTls11 = 11, kTls12 = 12, kTls13 = 13 };

struct TlsServerConfig {
  // Absolute paths (relative ones are resolved against the web config's folder).
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;  // empty: the system's CAs verify client certificates
  ClientAuthType client_auth_type = ClientAuthType::kNoClientCert;
  TlsVersion min_version = TlsVersion::kTls12;  // Prometheus' default
  TlsVersion max_version = TlsVersion::kUnset;  // unset: the newest the library has
  // OpenSSL names of the TLS <= 1.2 suites (Go names mapped); empty: library defaults.
  // TLS 1.3 suites are not configurable (as in Go).
  std::vector<std::string> cipher_suites;
  bool prefer_server_cipher_suites = true;
  std::vector<std::string> curve_preferences;  // OpenSSL group names ("P-256", "X25519")
};

struct WebConfig {
  std::string source;  // the file it was read from
  // TLS is on when cert_file and key_file are set (exporter-toolkit's rule).
  bool tls_enabled = false;
  TlsServerConfig tls;
  // Set on every HTTP response (including 401s).
  std::vector<std::pair<std::string, std::string>> headers;
  // user -> bcrypt hash. Empty: no authentication.
  std::map<std::string, std::string> basic_auth_users;
};

// Parses `yaml`; `filename` names the file in errors and its folder anchors relative
// paths.
absl::StatusOr<WebConfig> ParseWebConfig(std::string_view yaml, std::string_view filename);
// Reads and parses `path`.
absl::StatusOr<WebConfig> LoadWebConfigFile(const std::string& path);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_WEB_CONFIG_H_
