// Command-line flags of the cairn server, named and defaulted as Prometheus 2.42's
// (`--storage.tsdb.path`, `--web.listen-address`, ...) so existing unit files and
// scripts keep working. Accepts `--name=value`, `--name value`, and for booleans
// `--name` / `--no-name`, as kingpin does.
#ifndef CAIRN_SERVER_FLAGS_H_
#define CAIRN_SERVER_FLAGS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace cairn::server {

struct ServerFlags {
  std::string config_file;  // empty: the embedded default configuration
  std::string storage_path = "data";
  std::string retention_time = "15d";
  std::string retention_size = "0";  // 0: no size bound
  std::string web_listen_address = "0.0.0.0:9090";
  std::string web_config_file;  // empty: plain HTTP/gRPC, no authentication
  std::string grpc_listen_address = "0.0.0.0:9095";
  std::string lookback_delta = "5m";
  std::string query_timeout = "2m";
  int64_t query_max_samples = 50000000;
  int64_t query_max_concurrency = 20;
  int64_t alertmanager_queue_capacity = 10000;  // alerts waiting to be sent
  // Limits (docs/limits.md). Counts of 0 and sizes of "0" disable the limit.
  std::string web_max_request_body_size = "32MB";
  int64_t web_max_connections = 512;
  std::string remote_write_max_decompressed_size = "64MB";
  int64_t remote_write_max_series_per_request = 1 << 20;
  int64_t remote_write_max_samples_per_request = 8 << 20;
  int64_t remote_write_max_labels_per_series = 128;
  int64_t remote_write_max_label_name_length = 1024;
  int64_t remote_write_max_label_value_length = 16 << 10;
  int64_t tsdb_max_series = 0;
  bool enable_admin_api = false;
  bool prometheus_compatible_blocks = false;
  bool wal_fsync_on_commit = false;
  bool enable_lifecycle = false;  // POST /-/reload and /-/quit, as Prometheus
  std::string log_level = "info";

  bool help = false;
  bool version = false;
};

// Parses argv. Unknown flags, missing values and malformed numbers are
// kInvalidArgument errors naming the flag.
absl::StatusOr<ServerFlags> ParseServerFlags(int argc, const char* const* argv);

// The --help text.
std::string ServerFlagsUsage();

// Parses a Prometheus duration ("15d", "1h30m", "500ms") into milliseconds.
absl::StatusOr<int64_t> ParsePrometheusDuration(std::string_view s);
// Parses a byte size with Prometheus' units ("512MB", "1GB", "0") into bytes.
absl::StatusOr<int64_t> ParseByteSize(std::string_view s);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_FLAGS_H_
