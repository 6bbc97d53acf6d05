// Config: the Prometheus configuration file (prometheus.yml) as Cairn understands
// it — global settings, scrape configs with static and file-based service discovery,
// relabelling, auth and TLS settings; rule_files and alerting are parsed and kept.
//
// Loading validates everything up front so a reload either yields a complete,
// consistent Config or an error naming file, line and field (the caller keeps the
// running config then). Unknown fields are refused, as Prometheus does, so typos do
// not silently fall back to defaults. Defaults are Prometheus'.
//
// A Config is a plain value: copyable, immutable once loaded, safe to share.
#ifndef CAIRN_SERVER_CONFIG_CONFIG_H_
#define CAIRN_SERVER_CONFIG_CONFIG_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/config/relabel.h"
#include "tsdb/model/labels.h"

namespace cairn::config {

struct GlobalConfig {
  absl::Duration scrape_interval = absl::Minutes(1);
  absl::Duration scrape_timeout = absl::Seconds(10);
  absl::Duration evaluation_interval = absl::Minutes(1);
  Labels external_labels;
  // Defaults for every scrape config (newer Prometheus versions accept these here).
  uint64_t sample_limit = 0;
  uint64_t label_limit = 0;
  uint64_t body_size_limit = 0;
};

struct StaticConfig {
  std::vector<std::string> targets;  // host:port
  Labels labels;
};

struct FileSdConfig {
  std::vector<std::string> files;  // glob patterns, resolved against the config's dir
  absl::Duration refresh_interval = absl::Minutes(5);
};

struct BasicAuth {
  std::string username;
  std::string password;
  std::string password_file;
};

struct Authorization {
  std::string type = "Bearer";
  std::string credentials;
  std::string credentials_file;
};

struct TlsConfig {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string server_name;
  bool insecure_skip_verify = false;
};

struct ScrapeConfig {
  std::string job_name;
  absl::Duration scrape_interval;  // defaults to global's
  absl::Duration scrape_timeout;   // defaults to global's (capped at the interval)
  std::string metrics_path = "/metrics";
  std::string scheme = "http";
  std::map<std::string, std::vector<std::string>> params;
  bool honor_labels = false;
  bool honor_timestamps = true;
  std::vector<StaticConfig> static_configs;
  std::vector<FileSdConfig> file_sd_configs;
  std::vector<RelabelConfig> relabel_configs;
  std::vector<RelabelConfig> metric_relabel_configs;
  bool has_basic_auth = false;
  BasicAuth basic_auth;
  bool has_authorization = false;
  Authorization authorization;
  TlsConfig tls_config;
  uint64_t sample_limit = 0;     // 0 = no limit
  uint64_t label_limit = 0;      // 0 = no limit
  uint64_t body_size_limit = 0;  // bytes; 0 = no limit
};

struct AlertmanagerConfig {
  std::string scheme = "http";
  std::string path_prefix = "/";
  absl::Duration timeout = absl::Seconds(10);
  std::string api_version = "v2";
  std::vector<StaticConfig> static_configs;
  std::vector<RelabelConfig> relabel_configs;
};

struct AlertingConfig {
  std::vector<RelabelConfig> alert_relabel_configs;
  std::vector<AlertmanagerConfig> alertmanagers;
};

struct Config {
  GlobalConfig global;
  std::vector<std::string> rule_files;
  std::vector<ScrapeConfig> scrape_configs;
  AlertingConfig alerting;
  std::string source;  // file name (or "<embedded>"), for messages
};

// Parses `yaml`; `filename` prefixes error messages ("prometheus.yml:12: ...").
// kInvalidArgument on any syntax error, unknown field, bad value or inconsistency.
absl::StatusOr<Config> ParseConfig(std::string_view yaml, std::string_view filename);

// Reads and parses `path`. kNotFound / kInvalidArgument.
absl::StatusOr<Config> LoadConfigFile(const std::string& path);

// The config used without --config.file: scrape Cairn's own /metrics every 15s
// (job "cairn", target `listen_address`, e.g. "127.0.0.1:9090").
Config DefaultConfig(std::string_view listen_address);

// Parses a Prometheus duration ("1m", "1h30m", "500ms", "1d", "1w", "1y").
absl::StatusOr<absl::Duration> ParsePromDuration(std::string_view text);
// Prometheus' rendering: the largest units without remainder, e.g. "1m30s".
std::string FormatPromDuration(absl::Duration d);

// Target groups from a file_sd file (JSON or YAML, by extension: .json, .yml,
// .yaml). Each group has targets and labels; `__meta_filepath` is added.
absl::StatusOr<std::vector<StaticConfig>> LoadFileSdTargets(const std::string& path);

}  // namespace cairn::config

#endif  // CAIRN_SERVER_CONFIG_CONFIG_H_
