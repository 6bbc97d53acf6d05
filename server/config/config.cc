#include "server/config/config.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::config {
namespace {

// Carries the file name and turns yaml-cpp nodes into values or precise errors.
// Every yaml-cpp call that can throw runs under the try/catch in ParseConfig;
// Decoder methods themselves report errors via Status.
class Decoder {
 public:
  explicit Decoder(std::string_view filename) : filename_(filename) {}

  absl::Status Error(const YAML::Node& node, std::string_view message) const {
    int line = node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
    return absl::InvalidArgumentError(absl::StrFormat("%s:%d: %s", filename_, line, message));
  }

  // Refuses keys outside `allowed`, naming the Go type as Prometheus does.
  absl::Status CheckFields(const YAML::Node& node, std::string_view type,
                           std::initializer_list<std::string_view> allowed) const {
    if (!node.IsMap()) {
      return Error(node, absl::StrFormat("expected a mapping for type %s", type));
    }
    for (const auto& kv : node) {
      std::string key = kv.first.Scalar();
      bool ok = false;
      for (std::string_view a : allowed) ok = ok || a == key;
      if (!ok) {
        return Error(kv.first, absl::StrFormat("field %s not found in type %s", key, type));
      }
    }
    return absl::OkStatus();
  }

  absl::Status String(const YAML::Node& node, std::string_view field, std::string* out) const {
    if (!node.IsScalar()) return Error(node, absl::StrFormat("field %s: expected a string", field));
    *out = node.Scalar();
    return absl::OkStatus();
  }

  absl::Status Bool(const YAML::Node& node, std::string_view field, bool* out) const {
    const std::string& s = node.IsScalar() ? node.Scalar() : std::string();
    if (s == "true" || s == "True" || s == "TRUE") {
      *out = true;
    } else if (s == "false" || s == "False" || s == "FALSE") {
      *out = false;
    } else {
      return Error(node, absl::StrFormat("field %s: cannot unmarshal \"%s\" into bool", field, s));
    }
    return absl::OkStatus();
  }

  absl::Status Uint(const YAML::Node& node, std::string_view field, uint64_t* out) const {
    const std::string& s = node.IsScalar() ? node.Scalar() : std::string();
    if (s.empty() || s.size() > 19) {
      return Error(node, absl::StrFormat("field %s: cannot unmarshal \"%s\" into uint", field, s));
    }
    uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') {
        return Error(node,
                     absl::StrFormat("field %s: cannot unmarshal \"%s\" into uint", field, s));
      }
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    *out = v;
    return absl::OkStatus();
  }

  absl::Status Duration(const YAML::Node& node, std::string_view field, absl::Duration* out) const {
    const std::string& s = node.IsScalar() ? node.Scalar() : std::string();
    auto d = ParsePromDuration(s);
    if (!d.ok())
      return Error(node, absl::StrFormat("field %s: %s", field, StdSv(d.status().message())));
    *out = *d;
    return absl::OkStatus();
  }

  absl::Status Bytes(const YAML::Node& node, std::string_view field, uint64_t* out) const {
    std::string s = node.IsScalar() ? node.Scalar() : std::string();
    size_t i = 0;
    uint64_t v = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      v = v * 10 + static_cast<uint64_t>(s[i] - '0');
      ++i;
    }
    std::string unit = s.substr(i);
    static const std::pair<std::string_view, int> kUnits[] = {
        {"", 0},    {"B", 0},    {"KB", 10}, {"KiB", 10}, {"MB", 20}, {"MiB", 20},
        {"GB", 30}, {"GiB", 30}, {"TB", 40}, {"TiB", 40}, {"PB", 50}, {"PiB", 50}};
    if (i == 0 || i > 15) {
      return Error(node, absl::StrFormat("field %s: invalid size \"%s\"", field, s));
    }
    for (const auto& [name, shift] : kUnits) {
      if (name == unit) {
        *out = v << shift;
        return absl::OkStatus();
      }
    }
    return Error(node, absl::StrFormat("field %s: invalid size \"%s\"", field, s));
  }

  absl::Status StringList(const YAML::Node& node, std::string_view field,
                          std::vector<std::string>* out) const {
    if (!node.IsSequence()) {
      return Error(node, absl::StrFormat("field %s: expected a list of strings", field));
    }
    out->clear();
    for (const auto& item : node) {
      std::string s;
      auto st = String(item, field, &s);
      if (!st.ok()) return st;
      out->push_back(std::move(s));
    }
    return absl::OkStatus();
  }

  absl::Status LabelSet(const YAML::Node& node, std::string_view field, Labels* out) const {
    if (!node.IsMap())
      return Error(node, absl::StrFormat("field %s: expected a label mapping", field));
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const auto& kv : node) {
      std::string name = kv.first.Scalar();
      if (!IsValidLabelName(name)) {
        return Error(kv.first, absl::StrFormat("\"%s\" is not a valid label name", name));
      }
      std::string value;
      auto st = String(kv.second, name, &value);
      if (!st.ok()) return st;
      pairs.emplace_back(std::move(name), std::move(value));
    }
    *out = Labels::FromPairs(std::move(pairs));
    return absl::OkStatus();
  }

  absl::Status Relabel(const YAML::Node& node, RelabelConfig* out) const;
  absl::Status RelabelList(const YAML::Node& node, std::string_view field,
                           std::vector<RelabelConfig>* out) const;
  absl::Status Static(const YAML::Node& node, StaticConfig* out) const;
  absl::Status StaticList(const YAML::Node& node, std::vector<StaticConfig>* out) const;
  absl::Status Scrape(const YAML::Node& node, const GlobalConfig& global, ScrapeConfig* out) const;
  absl::Status Global(const YAML::Node& node, GlobalConfig* out) const;
  absl::Status Alerting(const YAML::Node& node, AlertingConfig* out) const;

  const std::string& filename() const { return filename_; }

 private:
  std::string filename_;
};

#define CAIRN_CFG_TRY(expr)    \
  do {                         \
    absl::Status _st = (expr); \
    if (!_st.ok()) return _st; \
  } while (0)

absl::Status Decoder::Relabel(const YAML::Node& node, RelabelConfig* out) const {
  CAIRN_CFG_TRY(CheckFields(
      node, "relabel.Config",
      {"source_labels", "separator", "regex", "modulus", "target_label", "replacement", "action"}));
  *out = DefaultRelabelConfig();
  out->regex = nullptr;
  for (const auto& kv : node) {
    std::string key = kv.first.Scalar();
    const YAML::Node& v = kv.second;
    if (key == "source_labels") {
      CAIRN_CFG_TRY(StringList(v, key, &out->source_labels));
      for (const std::string& l : out->source_labels) {
        if (!IsValidLabelName(l)) {
          return Error(v, absl::StrFormat("\"%s\" is not a valid label name", l));
        }
      }
    } else if (key == "separator") {
      CAIRN_CFG_TRY(String(v, key, &out->separator));
    } else if (key == "regex") {
      CAIRN_CFG_TRY(String(v, key, &out->regex_text));
    } else if (key == "modulus") {
      CAIRN_CFG_TRY(Uint(v, key, &out->modulus));
    } else if (key == "target_label") {
      CAIRN_CFG_TRY(String(v, key, &out->target_label));
    } else if (key == "replacement") {
      CAIRN_CFG_TRY(String(v, key, &out->replacement));
    } else if (key == "action") {
      std::string a;
      CAIRN_CFG_TRY(String(v, key, &a));
      auto action = ParseRelabelAction(a);
      if (!action.ok()) return Error(v, StdSv(action.status().message()));
      out->action = *action;
    }
  }
  absl::Status st = out->CompileRegex();
  if (st.ok()) st = out->Validate();
  if (!st.ok()) return Error(node, StdSv(st.message()));
  return absl::OkStatus();
}

absl::Status Decoder::RelabelList(const YAML::Node& node, std::string_view field,
                                  std::vector<RelabelConfig>* out) const {
  if (node.IsNull()) return absl::OkStatus();
  if (!node.IsSequence()) return Error(node, absl::StrFormat("field %s: expected a list", field));
  for (const auto& item : node) {
    RelabelConfig rc;
    CAIRN_CFG_TRY(Relabel(item, &rc));
    out->push_back(std::move(rc));
  }
  return absl::OkStatus();
}

absl::Status Decoder::Static(const YAML::Node& node, StaticConfig* out) const {
  CAIRN_CFG_TRY(CheckFields(node, "targetgroup.Group", {"targets", "labels"}));
  for (const auto& kv : node) {
    std::string key = kv.first.Scalar();
    if (key == "targets") {
      if (kv.second.IsNull()) continue;
      CAIRN_CFG_TRY(StringList(kv.second, key, &out->targets));
      for (const std::string& t : out->targets) {
        if (t.empty() || t.find('/') != std::string::npos) {
          return Error(kv.second, absl::StrFormat("\"%s\" is not a valid hostname", t));
        }
      }
    } else if (key == "labels") {
      if (kv.second.IsNull()) continue;
      CAIRN_CFG_TRY(LabelSet(kv.second, key, &out->labels));
    }
  }
  return absl::OkStatus();
}

absl::Status Decoder::StaticList(const YAML::Node& node, std::vector<StaticConfig>* out) const {
  if (node.IsNull()) return absl::OkStatus();
  if (!node.IsSequence()) return Error(node, "field static_configs: expected a list");
  for (const auto& item : node) {
    StaticConfig sc;
    CAIRN_CFG_TRY(Static(item, &sc));
    out->push_back(std::move(sc));
  }
  return absl::OkStatus();
}

absl::Status Decoder::Global(const YAML::Node& node, GlobalConfig* out) const {
  CAIRN_CFG_TRY(
      CheckFields(node, "config.GlobalConfig",
                  {"scrape_interval", "scrape_timeout", "evaluation_interval", "external_labels",
                   "query_log_file", "body_size_limit", "sample_limit", "label_limit"}));
  bool timeout_set = false;
  for (const auto& kv : node) {
    std::string key = kv.first.Scalar();
    const YAML::Node& v = kv.second;
    if (key == "scrape_interval") {
      CAIRN_CFG_TRY(Duration(v, key, &out->scrape_interval));
    } else if (key == "scrape_timeout") {
      CAIRN_CFG_TRY(Duration(v, key, &out->scrape_timeout));
      timeout_set = true;
    } else if (key == "evaluation_interval") {
      CAIRN_CFG_TRY(Duration(v, key, &out->evaluation_interval));
    } else if (key == "external_labels") {
      if (!v.IsNull()) CAIRN_CFG_TRY(LabelSet(v, key, &out->external_labels));
    } else if (key == "sample_limit") {
      CAIRN_CFG_TRY(Uint(v, key, &out->sample_limit));
    } else if (key == "label_limit") {
      CAIRN_CFG_TRY(Uint(v, key, &out->label_limit));
    } else if (key == "body_size_limit") {
      CAIRN_CFG_TRY(Bytes(v, key, &out->body_size_limit));
    }
  }
  if (out->scrape_interval == absl::ZeroDuration()) out->scrape_interval = absl::Minutes(1);
  if (out->scrape_timeout > out->scrape_interval) {
    if (timeout_set) return Error(node, "global scrape timeout greater than scrape interval");
    out->scrape_timeout = out->scrape_interval;
  }
  if (out->scrape_timeout == absl::ZeroDuration()) out->scrape_timeout = absl::Seconds(10);
  if (out->evaluation_interval == absl::ZeroDuration()) out->evaluation_interval = absl::Minutes(1);
  return absl::OkStatus();
}

absl::Status Decoder::Scrape(const YAML::Node& node, const GlobalConfig& global,
                             ScrapeConfig* out) const {
  CAIRN_CFG_TRY(
      CheckFields(node, "config.ScrapeConfig",
                  {"job_name",       "scrape_interval", "scrape_timeout",  "metrics_path",
                   "scheme",         "params",          "honor_labels",    "honor_timestamps",
                   "static_configs", "file_sd_configs", "relabel_configs", "metric_relabel_configs",
                   "basic_auth",     "authorization",   "bearer_token",    "bearer_token_file",
                   "tls_config",     "sample_limit",    "label_limit",     "body_size_limit"}));
  bool interval_set = false;
  bool timeout_set = false;
  std::string bearer_token, bearer_token_file;
  out->sample_limit = global.sample_limit;
  out->label_limit = global.label_limit;
  out->body_size_limit = global.body_size_limit;
  for (const auto& kv : node) {
    std::string key = kv.first.Scalar();
    const YAML::Node& v = kv.second;
    if (key == "job_name") {
      CAIRN_CFG_TRY(String(v, key, &out->job_name));
    } else if (key == "scrape_interval") {
      CAIRN_CFG_TRY(Duration(v, key, &out->scrape_interval));
      interval_set = true;
    } else if (key == "scrape_timeout") {
      CAIRN_CFG_TRY(Duration(v, key, &out->scrape_timeout));
      timeout_set = true;
    } else if (key == "metrics_path") {
      CAIRN_CFG_TRY(String(v, key, &out->metrics_path));
    } else if (key == "scheme") {
      CAIRN_CFG_TRY(String(v, key, &out->scheme));
      if (out->scheme != "http" && out->scheme != "https") {
        return Error(
            v, absl::StrFormat("scheme \"%s\" not supported, must be either \"http\" or \"https\"",
                               out->scheme));
      }
    } else if (key == "params") {
      if (!v.IsMap()) return Error(v, "field params: expected a mapping");
      for (const auto& p : v) {
        std::vector<std::string> values;
        CAIRN_CFG_TRY(StringList(p.second, p.first.Scalar(), &values));
        out->params[p.first.Scalar()] = std::move(values);
      }
    } else if (key == "honor_labels") {
      CAIRN_CFG_TRY(Bool(v, key, &out->honor_labels));
    } else if (key == "honor_timestamps") {
      CAIRN_CFG_TRY(Bool(v, key, &out->honor_timestamps));
    } else if (key == "static_configs") {
      CAIRN_CFG_TRY(StaticList(v, &out->static_configs));
    } else if (key == "file_sd_configs") {
      if (v.IsNull()) continue;
      if (!v.IsSequence()) return Error(v, "field file_sd_configs: expected a list");
      for (const auto& item : v) {
        CAIRN_CFG_TRY(CheckFields(item, "file.SDConfig", {"files", "refresh_interval"}));
        FileSdConfig f;
        for (const auto& fkv : item) {
          std::string fkey = fkv.first.Scalar();
          if (fkey == "files") {
            CAIRN_CFG_TRY(StringList(fkv.second, fkey, &f.files));
          } else {
            CAIRN_CFG_TRY(Duration(fkv.second, fkey, &f.refresh_interval));
          }
        }
        if (f.files.empty())
          return Error(item, "file service discovery config must contain at least one path name");
        for (const std::string& file : f.files) {
          std::string ext = std::filesystem::path(file).extension().string();
          if (ext != ".json" && ext != ".yml" && ext != ".yaml") {
            return Error(item,
                         absl::StrFormat("path name \"%s\" is not valid for file discovery", file));
          }
        }
        out->file_sd_configs.push_back(std::move(f));
      }
    } else if (key == "relabel_configs") {
      CAIRN_CFG_TRY(RelabelList(v, key, &out->relabel_configs));
    } else if (key == "metric_relabel_configs") {
      CAIRN_CFG_TRY(RelabelList(v, key, &out->metric_relabel_configs));
    } else if (key == "basic_auth") {
      CAIRN_CFG_TRY(CheckFields(v, "config.BasicAuth", {"username", "password", "password_file"}));
      out->has_basic_auth = true;
      for (const auto& b : v) {
        std::string bkey = b.first.Scalar();
        std::string* dst = bkey == "username"   ? &out->basic_auth.username
                           : bkey == "password" ? &out->basic_auth.password
                                                : &out->basic_auth.password_file;
        CAIRN_CFG_TRY(String(b.second, bkey, dst));
      }
      if (!out->basic_auth.password.empty() && !out->basic_auth.password_file.empty()) {
        return Error(v, "at most one of basic_auth password & password_file must be configured");
      }
    } else if (key == "authorization") {
      CAIRN_CFG_TRY(
          CheckFields(v, "config.Authorization", {"type", "credentials", "credentials_file"}));
      out->has_authorization = true;
      for (const auto& a : v) {
        std::string akey = a.first.Scalar();
        std::string* dst = akey == "type"          ? &out->authorization.type
                           : akey == "credentials" ? &out->authorization.credentials
                                                   : &out->authorization.credentials_file;
        CAIRN_CFG_TRY(String(a.second, akey, dst));
      }
      if (out->authorization.type == "Basic" || out->authorization.type == "basic") {
        return Error(v,
                     "authorization type cannot be set to \"basic\", use \"basic_auth\" instead");
      }
      if (!out->authorization.credentials.empty() && !out->authorization.credentials_file.empty()) {
        return Error(
            v, "at most one of authorization credentials & credentials_file must be configured");
      }
    } else if (key == "bearer_token") {
      CAIRN_CFG_TRY(String(v, key, &bearer_token));
    } else if (key == "bearer_token_file") {
      CAIRN_CFG_TRY(String(v, key, &bearer_token_file));
    } else if (key == "tls_config") {
      CAIRN_CFG_TRY(
          CheckFields(v, "config.TLSConfig",
                      {"ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify"}));
      for (const auto& t : v) {
        std::string tkey = t.first.Scalar();
        if (tkey == "insecure_skip_verify") {
          CAIRN_CFG_TRY(Bool(t.second, tkey, &out->tls_config.insecure_skip_verify));
        } else {
          std::string* dst = tkey == "ca_file"     ? &out->tls_config.ca_file
                             : tkey == "cert_file" ? &out->tls_config.cert_file
                             : tkey == "key_file"  ? &out->tls_config.key_file
                                                   : &out->tls_config.server_name;
          CAIRN_CFG_TRY(String(t.second, tkey, dst));
        }
      }
      if (out->tls_config.cert_file.empty() != out->tls_config.key_file.empty()) {
        return Error(v, "exactly one of key or key_file and cert_file must be configured");
      }
    } else if (key == "sample_limit") {
      CAIRN_CFG_TRY(Uint(v, key, &out->sample_limit));
    } else if (key == "label_limit") {
      CAIRN_CFG_TRY(Uint(v, key, &out->label_limit));
    } else if (key == "body_size_limit") {
      CAIRN_CFG_TRY(Bytes(v, key, &out->body_size_limit));
    }
  }
  if (out->job_name.empty()) return Error(node, "job_name is empty");
  if (!bearer_token.empty() && !bearer_token_file.empty()) {
    return Error(node, "at most one of bearer_token & bearer_token_file must be configured");
  }
  if (!bearer_token.empty() || !bearer_token_file.empty()) {
    if (out->has_authorization || out->has_basic_auth) {
      return Error(
          node, "at most one of basic_auth, bearer_token & bearer_token_file must be configured");
    }
    out->has_authorization = true;
    out->authorization.credentials = bearer_token;
    out->authorization.credentials_file = bearer_token_file;
  }
  if (out->has_authorization && out->has_basic_auth) {
    return Error(node, "at most one of basic_auth, oauth2 & authorization must be configured");
  }
  if (!interval_set || out->scrape_interval == absl::ZeroDuration()) {
    out->scrape_interval = global.scrape_interval;
  }
  if (!timeout_set || out->scrape_timeout == absl::ZeroDuration()) {
    out->scrape_timeout = std::min(global.scrape_timeout, out->scrape_interval);
  }
  if (out->scrape_timeout > out->scrape_interval) {
    return Error(
        node,
        absl::StrFormat(
            "scrape timeout greater than scrape interval for scrape config with job name \"%s\"",
            out->job_name));
  }
  return absl::OkStatus();
}

absl::Status Decoder::Alerting(const YAML::Node& node, AlertingConfig* out) const {
  CAIRN_CFG_TRY(
      CheckFields(node, "config.AlertingConfig", {"alert_relabel_configs", "alertmanagers"}));
  for (const auto& kv : node) {
    std::string key = kv.first.Scalar();
    if (key == "alert_relabel_configs") {
      CAIRN_CFG_TRY(RelabelList(kv.second, key, &out->alert_relabel_configs));
      continue;
    }
    if (kv.second.IsNull()) continue;
    if (!kv.second.IsSequence()) return Error(kv.second, "field alertmanagers: expected a list");
    for (const auto& am : kv.second) {
      CAIRN_CFG_TRY(CheckFields(am, "config.AlertmanagerConfig",
                                {"scheme", "path_prefix", "timeout", "api_version",
                                 "static_configs", "relabel_configs"}));
      AlertmanagerConfig a;
      for (const auto& akv : am) {
        std::string akey = akv.first.Scalar();
        if (akey == "scheme") {
          CAIRN_CFG_TRY(String(akv.second, akey, &a.scheme));
          if (a.scheme != "http" && a.scheme != "https") {
            return Error(akv.second,
                         absl::StrFormat("alertmanager scheme \"%s\" not supported, must be "
                                         "either \"http\" or \"https\"",
                                         a.scheme));
          }
        } else if (akey == "path_prefix") {
          CAIRN_CFG_TRY(String(akv.second, akey, &a.path_prefix));
        } else if (akey == "timeout") {
          CAIRN_CFG_TRY(Duration(akv.second, akey, &a.timeout));
        } else if (akey == "api_version") {
          CAIRN_CFG_TRY(String(akv.second, akey, &a.api_version));
          // Prometheus 2.42 still accepted v1, but Alertmanager removed its v1 API in
          // 0.27 and Cairn only speaks v2: refuse v1 now rather than fail every send.
          if (a.api_version == "v1") {
            return Error(akv.second,
                         "alertmanager api_version v1 is not supported (Alertmanager removed "
                         "its v1 API in 0.27); use api_version: v2");
          }
          if (a.api_version != "v2") {
            return Error(akv.second,
                         absl::StrFormat("expected Alertmanager api version to be one of "
                                         "[v1 v2] but got %s",
                                         a.api_version));
          }
        } else if (akey == "static_configs") {
          CAIRN_CFG_TRY(StaticList(akv.second, &a.static_configs));
        } else {
          CAIRN_CFG_TRY(RelabelList(akv.second, akey, &a.relabel_configs));
        }
      }
      out->alertmanagers.push_back(std::move(a));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Config> ParseConfigImpl(const Decoder& d, const YAML::Node& root) {
  Config cfg;
  cfg.source = d.filename();
  if (root.IsNull()) return cfg;
  CAIRN_CFG_TRY(d.CheckFields(root, "config.plain",
                              {"global", "rule_files", "scrape_configs", "alerting", "remote_write",
                               "remote_read", "storage", "tracing"}));
  if (root["global"] && !root["global"].IsNull()) {
    CAIRN_CFG_TRY(d.Global(root["global"], &cfg.global));
  }
  if (root["rule_files"] && !root["rule_files"].IsNull()) {
    CAIRN_CFG_TRY(d.StringList(root["rule_files"], "rule_files", &cfg.rule_files));
  }
  if (root["alerting"] && !root["alerting"].IsNull()) {
    CAIRN_CFG_TRY(d.Alerting(root["alerting"], &cfg.alerting));
  }
  const YAML::Node scrapes = root["scrape_configs"];
  if (scrapes && !scrapes.IsNull()) {
    if (!scrapes.IsSequence()) return d.Error(scrapes, "field scrape_configs: expected a list");
    std::set<std::string> jobs;
    for (const auto& item : scrapes) {
      ScrapeConfig sc;
      CAIRN_CFG_TRY(d.Scrape(item, cfg.global, &sc));
      if (!jobs.insert(sc.job_name).second) {
        return d.Error(item, absl::StrFormat("found multiple scrape configs with job name \"%s\"",
                                             sc.job_name));
      }
      cfg.scrape_configs.push_back(std::move(sc));
    }
  }
  return cfg;
}

absl::Status ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path));
  *out = ss.str();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<absl::Duration> ParsePromDuration(std::string_view text) {
  if (text == "0") return absl::ZeroDuration();
  if (text.empty()) return absl::InvalidArgumentError("empty duration string");
  struct Unit {
    std::string_view name;
    absl::Duration d;
  };
  static const Unit kUnits[] = {{"y", absl::Hours(24 * 365)}, {"w", absl::Hours(24 * 7)},
                                {"d", absl::Hours(24)},       {"h", absl::Hours(1)},
                                {"m", absl::Minutes(1)},      {"s", absl::Seconds(1)},
                                {"ms", absl::Milliseconds(1)}};
  absl::Duration total;
  size_t next_unit = 0;  // units must appear in decreasing order, each at most once
  std::string_view rest = text;
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrFormat("not a valid duration string: \"%s\"", text));
  };
  while (!rest.empty()) {
    size_t n = 0;
    int64_t v = 0;
    while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') {
      if (v > (int64_t{1} << 40)) return bad();
      v = v * 10 + (rest[n] - '0');
      ++n;
    }
    if (n == 0) return bad();
    rest.remove_prefix(n);
    size_t u = 0;
    while (u < rest.size() && rest[u] >= 'a' && rest[u] <= 'z') ++u;
    std::string_view unit = rest.substr(0, u);
    rest.remove_prefix(u);
    bool found = false;
    for (size_t i = next_unit; i < std::size(kUnits); ++i) {
      if (kUnits[i].name == unit) {
        total += v * kUnits[i].d;
        next_unit = i + 1;
        found = true;
        break;
      }
    }
    if (!found) return bad();
  }
  return total;
}

std::string FormatPromDuration(absl::Duration d) {
  int64_t ms = absl::ToInt64Milliseconds(d);
  if (ms == 0) return "0s";
  std::string out;
  struct Unit {
    const char* name;
    int64_t ms;
  };
  static const Unit kUnits[] = {{"y", 365LL * 24 * 3600 * 1000},
                                {"w", 7LL * 24 * 3600 * 1000},
                                {"d", 24LL * 3600 * 1000},
                                {"h", 3600LL * 1000},
                                {"m", 60LL * 1000},
                                {"s", 1000},
                                {"ms", 1}};
  for (const Unit& u : kUnits) {
    // Prometheus prints weeks and years only when they divide the whole duration.
    if ((std::string_view(u.name) == "w" || std::string_view(u.name) == "y") && ms % u.ms != 0) {
      continue;
    }
    if (ms >= u.ms) {
      absl::StrAppend(&out, ms / u.ms, u.name);
      ms %= u.ms;
    }
  }
  return out;
}

absl::StatusOr<Config> ParseConfig(std::string_view yaml, std::string_view filename) {
  Decoder d(filename);
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    return ParseConfigImpl(d, root);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s:%d: %s", filename, e.mark.line + 1, e.msg));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: %s", filename, e.what()));
  }
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  std::string data;
  CAIRN_CFG_TRY(ReadFile(path, &data));
  return ParseConfig(data, path);
}

Config DefaultConfig(std::string_view listen_address) {
  Config cfg;
  cfg.source = "<embedded>";
  cfg.global.scrape_interval = absl::Seconds(15);
  cfg.global.evaluation_interval = absl::Seconds(15);
  ScrapeConfig sc;
  sc.job_name = "cairn";
  sc.scrape_interval = cfg.global.scrape_interval;
  sc.scrape_timeout = cfg.global.scrape_timeout;
  StaticConfig st;
  st.targets.emplace_back(listen_address);
  sc.static_configs.push_back(std::move(st));
  cfg.scrape_configs.push_back(std::move(sc));
  return cfg;
}

absl::StatusOr<std::vector<StaticConfig>> LoadFileSdTargets(const std::string& path) {
  std::string data;
  CAIRN_CFG_TRY(ReadFile(path, &data));
  Decoder d(path);
  std::vector<StaticConfig> groups;
  try {
    // JSON is a subset of YAML, so one parser reads both formats.
    YAML::Node root = YAML::Load(data);
    if (root.IsNull()) return groups;
    if (!root.IsSequence()) return d.Error(root, "expected a list of target groups");
    for (const auto& item : root) {
      StaticConfig sc;
      CAIRN_CFG_TRY(d.Static(item, &sc));
      LabelsBuilder b(sc.labels);
      b.Set("__meta_filepath", path);
      sc.labels = b.Build();
      groups.push_back(std::move(sc));
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrFormat("%s:%d: %s", path, e.mark.line + 1, e.msg));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: %s", path, e.what()));
  }
  return groups;
}

}  // namespace cairn::config
