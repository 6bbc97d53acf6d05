#include "server/web_config.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::server {
namespace {

// Go's cipher suite names (what exporter-toolkit accepts) -> OpenSSL's. TLS 1.3
// suites are accepted and ignored, as Go does; RC4 suites are not offered by OpenSSL 3.
struct CipherName {
  std::string_view go;
  std::string_view openssl;  // "" for TLS 1.3 suites
};
constexpr CipherName kCiphers[] = {
    {"TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA"},
    {"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"},
    {"TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256"},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA"},
    {"TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "ECDHE-RSA-DES-CBC3-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "ECDHE-RSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "ECDHE-ECDSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"},
    {"TLS_AES_128_GCM_SHA256", ""},
    {"TLS_AES_256_GCM_SHA384", ""},
    {"TLS_CHACHA20_POLY1305_SHA256", ""},
};

// Go's tls.CurveID names -> OpenSSL group names.
constexpr std::pair<std::string_view, std::string_view> kCurves[] = {
    {"CurveP256", "P-256"}, {"CurveP384", "P-384"}, {"CurveP521", "P-521"}, {"X25519", "X25519"}};

// exporter-toolkit allows only these response headers, some with fixed values.
struct HeaderRule {
  std::string_view name;
  std::vector<std::string_view> values;  // empty: any value
};
const std::vector<HeaderRule>& HeaderRules() {
  static const auto* rules = new std::vector<HeaderRule>{
      {"Strict-Transport-Security", {}},
      {"X-Content-Type-Options", {"nosniff"}},
      {"X-Frame-Options", {"deny", "sameorigin"}},
      {"X-XSS-Protection", {}},
      {"Content-Security-Policy", {}},
  };
  return *rules;
}

// Turns yaml-cpp nodes into values or errors naming file, line and field. Every call
// that can throw runs under the try/catch in ParseWebConfig.
class Decoder {
 public:
  Decoder(std::string_view filename, std::filesystem::path dir)
      : filename_(filename), dir_(std::move(dir)) {}

  absl::Status Error(const YAML::Node& node, std::string_view message) const {
    int line = node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
    return absl::InvalidArgumentError(absl::StrFormat("%s:%d: %s", filename_, line, message));
  }

  absl::Status CheckFields(const YAML::Node& node, std::string_view type,
                           std::initializer_list<std::string_view> allowed) const {
    if (!node.IsMap()) return Error(node, absl::StrFormat("expected a mapping for type %s", type));
    for (const auto& kv : node) {
      std::string key = kv.first.Scalar();
      bool ok = false;
      for (std::string_view a : allowed) ok = ok || a == key;
      if (!ok) return Error(kv.first, absl::StrFormat("field %s not found in type %s", key, type));
    }
    return absl::OkStatus();
  }

  absl::Status String(const YAML::Node& node, std::string_view field, std::string* out) const {
    if (node.IsNull()) {
      out->clear();
      return absl::OkStatus();
    }
    if (!node.IsScalar()) return Error(node, absl::StrFormat("field %s: expected a string", field));
    *out = node.Scalar();
    return absl::OkStatus();
  }

  absl::Status Path(const YAML::Node& node, std::string_view field, std::string* out) const {
    if (absl::Status s = String(node, field, out); !s.ok()) return s;
    if (!out->empty() && std::filesystem::path(*out).is_relative()) {
      *out = (dir_ / *out).lexically_normal().string();
    }
    return absl::OkStatus();
  }

  absl::Status Bool(const YAML::Node& node, std::string_view field, bool* out) const {
    const std::string s = node.IsScalar() ? node.Scalar() : std::string();
    if (s == "true" || s == "True" || s == "TRUE") {
      *out = true;
    } else if (s == "false" || s == "False" || s == "FALSE") {
      *out = false;
    } else {
      return Error(node, absl::StrFormat("field %s: cannot unmarshal \"%s\" into bool", field, s));
    }
    return absl::OkStatus();
  }

  absl::Status Version(const YAML::Node& node, std::string_view field, TlsVersion* out) const {
    std::string s;
    if (absl::Status st = String(node, field, &s); !st.ok()) return st;
    if (s == "TLS13") {
      *out = TlsVersion::kTls13;
    } else if (s == "TLS12") {
      *out = TlsVersion::kTls12;
    } else if (s == "TLS11") {
      *out = TlsVersion::kTls11;
    } else if (s == "TLS10") {
      *out = TlsVersion::kTls10;
    } else {
      return Error(
          node, absl::StrFormat("field %s: unknown TLS version \"%s\" (TLS10, TLS11, TLS12, TLS13)",
                                field, s));
    }
    return absl::OkStatus();
  }

  absl::Status Tls(const YAML::Node& node, WebConfig* cfg) const {
    if (!node || node.IsNull()) return absl::OkStatus();
    if (absl::Status s = CheckFields(
            node, "web.TLSStruct",
            {"cert_file", "key_file", "client_auth_type", "client_ca_file", "cipher_suites",
             "curve_preferences", "min_version", "max_version", "prefer_server_cipher_suites"});
        !s.ok()) {
      return s;
    }
    TlsServerConfig& t = cfg->tls;
    for (const auto& kv : node) {
      const std::string key = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      absl::Status s;
      if (key == "cert_file") {
        s = Path(v, key, &t.cert_file);
      } else if (key == "key_file") {
        s = Path(v, key, &t.key_file);
      } else if (key == "client_ca_file") {
        s = Path(v, key, &t.client_ca_file);
      } else if (key == "client_auth_type") {
        s = ClientAuth(v, &t.client_auth_type);
      } else if (key == "min_version") {
        s = Version(v, key, &t.min_version);
      } else if (key == "max_version") {
        s = Version(v, key, &t.max_version);
      } else if (key == "prefer_server_cipher_suites") {
        s = Bool(v, key, &t.prefer_server_cipher_suites);
      } else if (key == "cipher_suites") {
        s = Ciphers(v, &t.cipher_suites);
      } else if (key == "curve_preferences") {
        s = Curves(v, &t.curve_preferences);
      }
      if (!s.ok()) return s;
    }
    // exporter-toolkit's rules: TLS is on when either file is named, and then both
    // must be.
    if (t.cert_file.empty() && t.key_file.empty()) {
      if (!t.client_ca_file.empty() || t.client_auth_type != ClientAuthType::kNoClientCert) {
        return Error(node, "tls_server_config: client authentication needs cert_file and key_file");
      }
      return absl::OkStatus();
    }
    if (t.cert_file.empty()) return Error(node, "tls_server_config: missing cert_file");
    if (t.key_file.empty()) return Error(node, "tls_server_config: missing key_file");
    if (!t.client_ca_file.empty() && t.client_auth_type == ClientAuthType::kNoClientCert) {
      return Error(node,
                   "tls_server_config: client_ca_file is set but client_auth_type is "
                   "NoClientCert (Client CA's have been configured without a Client Auth Policy)");
    }
    if (t.max_version != TlsVersion::kUnset && t.max_version < t.min_version) {
      return Error(node, "tls_server_config: max_version is lower than min_version");
    }
    cfg->tls_enabled = true;
    return absl::OkStatus();
  }

  absl::Status ClientAuth(const YAML::Node& node, ClientAuthType* out) const {
    std::string s;
    if (absl::Status st = String(node, "client_auth_type", &s); !st.ok()) return st;
    if (s.empty() || s == "NoClientCert") {
      *out = ClientAuthType::kNoClientCert;
    } else if (s == "RequestClientCert") {
      *out = ClientAuthType::kRequestClientCert;
    } else if (s == "RequireAnyClientCert" || s == "RequireClientCert") {
      *out = ClientAuthType::kRequireAnyClientCert;  // the second is exporter-toolkit's alias
    } else if (s == "VerifyClientCertIfGiven") {
      *out = ClientAuthType::kVerifyClientCertIfGiven;
    } else if (s == "RequireAndVerifyClientCert") {
      *out = ClientAuthType::kRequireAndVerifyClientCert;
    } else {
      return Error(
          node, absl::StrFormat("field client_auth_type: invalid ClientAuth \"%s\" (NoClientCert, "
                                "RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, "
                                "RequireAndVerifyClientCert)",
                                s));
    }
    return absl::OkStatus();
  }

  absl::Status Ciphers(const YAML::Node& node, std::vector<std::string>* out) const {
    if (node.IsNull()) return absl::OkStatus();
    if (!node.IsSequence()) return Error(node, "field cipher_suites: expected a list of strings");
    for (const auto& item : node) {
      if (!item.IsScalar()) return Error(item, "field cipher_suites: expected a string");
      const std::string& name = item.Scalar();
      const CipherName* found = nullptr;
      for (const CipherName& c : kCiphers) {
        if (c.go == name) found = &c;
      }
      if (found == nullptr) {
        return Error(item, absl::StrFormat("field cipher_suites: unknown cipher \"%s\"", name));
      }
      if (!found->openssl.empty()) out->emplace_back(found->openssl);
    }
    return absl::OkStatus();
  }

  absl::Status Curves(const YAML::Node& node, std::vector<std::string>* out) const {
    if (node.IsNull()) return absl::OkStatus();
    if (!node.IsSequence()) {
      return Error(node, "field curve_preferences: expected a list of strings");
    }
    for (const auto& item : node) {
      const std::string name = item.IsScalar() ? item.Scalar() : std::string();
      std::string_view group;
      for (const auto& [go, ossl] : kCurves) {
        if (go == name) group = ossl;
      }
      if (group.empty()) {
        return Error(item, absl::StrFormat("field curve_preferences: unknown curve \"%s\" "
                                           "(CurveP256, CurveP384, CurveP521, X25519)",
                                           name));
      }
      out->emplace_back(group);
    }
    return absl::OkStatus();
  }

  absl::Status Http(const YAML::Node& node, WebConfig* cfg) const {
    if (!node || node.IsNull()) return absl::OkStatus();
    if (absl::Status s = CheckFields(node, "web.HTTPStruct", {"http2", "headers"}); !s.ok()) {
      return s;
    }
    if (const YAML::Node h2 = node["http2"]; h2) {
      bool ignored;  // Cairn serves HTTP/1.1 only; the field is accepted for compatibility.
      if (absl::Status s = Bool(h2, "http2", &ignored); !s.ok()) return s;
    }
    const YAML::Node headers = node["headers"];
    if (!headers || headers.IsNull()) return absl::OkStatus();
    if (!headers.IsMap()) return Error(headers, "field headers: expected a mapping");
    for (const auto& kv : headers) {
      const std::string name = kv.first.Scalar();
      std::string value;
      if (absl::Status s = String(kv.second, name, &value); !s.ok()) return s;
      const HeaderRule* rule = nullptr;
      for (const HeaderRule& r : HeaderRules()) {
        if (r.name == name) rule = &r;
      }
      if (rule == nullptr) {
        return Error(kv.first, absl::StrFormat("field headers: HTTP header \"%s\" can not be "
                                               "configured",
                                               name));
      }
      if (!rule->values.empty()) {
        bool ok = false;
        for (std::string_view a : rule->values) ok = ok || a == value;
        if (!ok) {
          return Error(
              kv.second,
              absl::StrFormat(
                  "field headers: invalid value for %s: expected one of "
                  "%s, got \"%s\"",
                  name,
                  std::string(absl::StrJoin(
                      std::vector<std::string>(rule->values.begin(), rule->values.end()), ", ")),
                  value));
        }
      }
      cfg->headers.emplace_back(name, value);
    }
    return absl::OkStatus();
  }

  absl::Status Users(const YAML::Node& node, WebConfig* cfg) const {
    if (!node || node.IsNull()) return absl::OkStatus();
    if (!node.IsMap()) return Error(node, "field basic_auth_users: expected a mapping");
    for (const auto& kv : node) {
      const std::string user = kv.first.Scalar();
      std::string hash;
      if (absl::Status s = String(kv.second, "basic_auth_users", &hash); !s.ok()) return s;
      // "$2?$cc$" + 22 characters of salt + 31 of hash. Prometheus would accept
      // anything here and then refuse every password; refusing at load time catches a
      // plain-text password pasted in by mistake. The message never echoes the value.
      bool bcrypt = hash.size() == 60 && hash[0] == '$' && hash[1] == '2' && hash[3] == '$' &&
                    hash[6] == '$' && (hash[2] == 'a' || hash[2] == 'b' || hash[2] == 'y');
      if (!bcrypt) {
        return Error(kv.second,
                     absl::StrFormat("field basic_auth_users: the password of user \"%s\" is "
                                     "not a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters)",
                                     user));
      }
      cfg->basic_auth_users[user] = hash;
    }
    return absl::OkStatus();
  }

  absl::Status Root(const YAML::Node& root, WebConfig* cfg) const {
    if (root.IsNull()) return absl::OkStatus();  // an empty file: no TLS, no auth
    if (absl::Status s = CheckFields(
            root, "web.Config", {"tls_server_config", "http_server_config", "basic_auth_users"});
        !s.ok()) {
      return s;
    }
    if (absl::Status s = Tls(root["tls_server_config"], cfg); !s.ok()) return s;
    if (absl::Status s = Http(root["http_server_config"], cfg); !s.ok()) return s;
    return Users(root["basic_auth_users"], cfg);
  }

 private:
  std::string filename_;
  std::filesystem::path dir_;
};

}  // namespace

std::string_view ClientAuthTypeName(ClientAuthType t) {
  switch (t) {
    case ClientAuthType::kNoClientCert:
      return "NoClientCert";
    case ClientAuthType::kRequestClientCert:
      return "RequestClientCert";
    case ClientAuthType::kRequireAnyClientCert:
      return "RequireAnyClientCert";
    case ClientAuthType::kVerifyClientCertIfGiven:
      return "VerifyClientCertIfGiven";
    case ClientAuthType::kRequireAndVerifyClientCert:
      return "RequireAndVerifyClientCert";
  }
  return "?";
}

absl::StatusOr<WebConfig> ParseWebConfig(std::string_view yaml, std::string_view filename) {
  std::filesystem::path dir = std::filesystem::path(std::string(filename)).parent_path();
  if (dir.empty()) dir = ".";
  Decoder d(filename, dir);
  WebConfig cfg;
  cfg.source = std::string(filename);
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (absl::Status s = d.Root(root, &cfg); !s.ok()) return s;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s:%d: %s", filename, e.mark.line + 1, e.msg));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: %s", filename, e.what()));
  }
  return cfg;
}

absl::StatusOr<WebConfig> LoadWebConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrFormat("web config %s: cannot open: %s", path, std::strerror(errno)));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::UnavailableError(absl::StrFormat("web config %s: read failed", path));
  return ParseWebConfig(ss.str(), path);
}

}  // namespace cairn::server
