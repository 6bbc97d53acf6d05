#include "server/flags.h"

#include <functional>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::server {
namespace {

struct FlagSpec {
  std::string_view name;
  std::string_view help;
  bool is_bool;
  std::function<absl::Status(ServerFlags*, std::string_view)> set;
};

absl::Status SetInt(int64_t* dst, std::string_view name, std::string_view v) {
  if (!absl::SimpleAtoi(Sv(v), dst)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("flag --%s: expected an integer, got \"%s\"", name, v));
  }
  return absl::OkStatus();
}

// A limit: an integer >= 0 (0 disables it).
absl::Status SetLimit(int64_t* dst, std::string_view name, std::string_view v) {
  int64_t n;
  if (absl::Status s = SetInt(&n, name, v); !s.ok()) return s;
  if (n < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("must not be negative (0 disables the limit), got %d", n));
  }
  *dst = n;
  return absl::OkStatus();
}

// A byte size with Prometheus' units ("32MB"), kept as written for /api/v1/status/flags.
absl::Status SetSize(std::string* dst, std::string_view v) {
  if (auto d = ParseByteSize(v); !d.ok()) return d.status();
  *dst = v;
  return absl::OkStatus();
}

// Adds the spec of an integer limit flag stored in ServerFlags::*field.
#define CAIRN_LIMIT_FLAG(flag_name, help_text, field)                                        \
  {                                                                                          \
    flag_name, help_text, false,                                                             \
        [](ServerFlags* f, std::string_view v) { return SetLimit(&f->field, flag_name, v); } \
  }

const std::vector<FlagSpec>& Specs() {
  static const auto* specs = new std::vector<FlagSpec>{
      {"config.file", "Prometheus configuration file path (default: embedded self-scrape).", false,
       [](ServerFlags* f, std::string_view v) {
         f->config_file = v;
         return absl::OkStatus();
       }},
      {"storage.tsdb.path", "Base path for metrics storage.", false,
       [](ServerFlags* f, std::string_view v) {
         f->storage_path = v;
         return absl::OkStatus();
       }},
      {"storage.tsdb.retention.time", "How long to retain samples in storage.", false,
       [](ServerFlags* f, std::string_view v) {
         if (auto d = ParsePrometheusDuration(v); !d.ok()) return d.status();
         f->retention_time = v;
         return absl::OkStatus();
       }},
      {"storage.tsdb.retention.size", "Maximum bytes of blocks to retain (0: no limit).", false,
       [](ServerFlags* f, std::string_view v) {
         if (auto d = ParseByteSize(v); !d.ok()) return d.status();
         f->retention_size = v;
         return absl::OkStatus();
       }},
      {"storage.tsdb.prometheus-compatible-blocks",
       "Write block chunks only in Prometheus' XOR encoding (readable by promtool) instead "
       "of Cairn's smaller packed encoding.",
       true,
       [](ServerFlags* f, std::string_view v) {
         f->prometheus_compatible_blocks = v == "true";
         return absl::OkStatus();
       }},
      {"storage.tsdb.wal-fsync-on-commit",
       "Fsync the WAL before acknowledging each write, so acknowledged samples survive a "
       "machine crash, not only a crash of cairn (the default hands them to the kernel "
       "before acknowledging and fsyncs every second).",
       true,
       [](ServerFlags* f, std::string_view v) {
         f->wal_fsync_on_commit = v == "true";
         return absl::OkStatus();
       }},
      {"web.listen-address", "Address to listen on for the web interface and API.", false,
       [](ServerFlags* f, std::string_view v) {
         f->web_listen_address = v;
         return absl::OkStatus();
       }},
      {"web.config.file",
       "[EXPERIMENTAL] Path to configuration file that can enable TLS or authentication "
       "(HTTP and gRPC; docs/security.md).",
       false,
       [](ServerFlags* f, std::string_view v) {
         f->web_config_file = v;
         return absl::OkStatus();
       }},
      {"grpc.listen-address", "Address to listen on for gRPC ingestion.", false,
       [](ServerFlags* f, std::string_view v) {
         f->grpc_listen_address = v;
         return absl::OkStatus();
       }},
      {"query.lookback-delta", "How far back to look for a sample for an instant vector.", false,
       [](ServerFlags* f, std::string_view v) {
         if (auto d = ParsePrometheusDuration(v); !d.ok()) return d.status();
         f->lookback_delta = v;
         return absl::OkStatus();
       }},
      {"query.timeout", "Maximum time a query may take before being aborted.", false,
       [](ServerFlags* f, std::string_view v) {
         if (auto d = ParsePrometheusDuration(v); !d.ok()) return d.status();
         f->query_timeout = v;
         return absl::OkStatus();
       }},
      {"query.max-samples", "Maximum number of samples a single query can load into memory.", false,
       [](ServerFlags* f, std::string_view v) {
         return SetInt(&f->query_max_samples, "query.max-samples", v);
       }},
      {"query.max-concurrency", "Maximum number of queries executed concurrently.", false,
       [](ServerFlags* f, std::string_view v) {
         absl::Status s = SetInt(&f->query_max_concurrency, "query.max-concurrency", v);
         if (s.ok() && f->query_max_concurrency < 1) {
           return absl::InvalidArgumentError(
               absl::StrFormat("must be at least 1, got %d", f->query_max_concurrency));
         }
         return s;
       }},
      {"alertmanager.notification-queue-capacity",
       "The capacity of the queue for pending Alertmanager notifications.", false,
       [](ServerFlags* f, std::string_view v) {
         absl::Status s =
             SetInt(&f->alertmanager_queue_capacity, "alertmanager.notification-queue-capacity", v);
         if (s.ok() && f->alertmanager_queue_capacity <= 0) {
           return absl::InvalidArgumentError(absl::StrFormat(
               "flag --alertmanager.notification-queue-capacity: must be positive, got %s", v));
         }
         return s;
       }},
      {"web.max-request-body-size",
       "Largest HTTP request body accepted (413 beyond it), e.g. 32MB; 0: no limit.", false,
       [](ServerFlags* f, std::string_view v) {
         return SetSize(&f->web_max_request_body_size, v);
       }},
      CAIRN_LIMIT_FLAG("web.max-connections",
                       "Maximum number of simultaneous HTTP connections (503 beyond it).",
                       web_max_connections),
      {"storage.remote-write.max-decompressed-size",
       "Largest remote-write request after snappy decompression, e.g. 64MB.", false,
       [](ServerFlags* f, std::string_view v) {
         return SetSize(&f->remote_write_max_decompressed_size, v);
       }},
      CAIRN_LIMIT_FLAG("storage.remote-write.max-series-per-request",
                       "Maximum number of series in one remote-write or gRPC write request.",
                       remote_write_max_series_per_request),
      CAIRN_LIMIT_FLAG("storage.remote-write.max-samples-per-request",
                       "Maximum number of samples in one remote-write or gRPC write request.",
                       remote_write_max_samples_per_request),
      CAIRN_LIMIT_FLAG("storage.remote-write.max-labels-per-series",
                       "Maximum number of labels of a series in a write request.",
                       remote_write_max_labels_per_series),
      CAIRN_LIMIT_FLAG("storage.remote-write.max-label-name-length",
                       "Longest label name in a write request, in bytes.",
                       remote_write_max_label_name_length),
      CAIRN_LIMIT_FLAG("storage.remote-write.max-label-value-length",
                       "Longest label value in a write request, in bytes.",
                       remote_write_max_label_value_length),
      CAIRN_LIMIT_FLAG("storage.tsdb.max-series",
                       "Maximum number of series in the head block: samples of new series "
                       "beyond it are refused, existing series keep ingesting. 0: no limit.",
                       tsdb_max_series),
      {"web.enable-admin-api", "Enable API endpoints for admin control actions.", true,
       [](ServerFlags* f, std::string_view v) {
         f->enable_admin_api = v == "true";
         return absl::OkStatus();
       }},
      {"web.enable-lifecycle", "Enable shutdown and reload via HTTP request.", true,
       [](ServerFlags* f, std::string_view v) {
         f->enable_lifecycle = v == "true";
         return absl::OkStatus();
       }},
      {"log.level",
       "Only log messages with the given severity or above: debug, info, warn, "
       "error.",
       false,
       [](ServerFlags* f, std::string_view v) {
         if (v != "debug" && v != "info" && v != "warn" && v != "error") {
           return absl::InvalidArgumentError(
               absl::StrFormat("flag --log.level: unknown level \"%s\"", v));
         }
         f->log_level = v;
         return absl::OkStatus();
       }},
      {"help", "Show this help.", true,
       [](ServerFlags* f, std::string_view v) {
         f->help = v == "true";
         return absl::OkStatus();
       }},
      {"version", "Show the version.", true,
       [](ServerFlags* f, std::string_view v) {
         f->version = v == "true";
         return absl::OkStatus();
       }},
  };
  return *specs;
}

#undef CAIRN_LIMIT_FLAG

const FlagSpec* Find(std::string_view name) {
  for (const FlagSpec& s : Specs()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

absl::StatusOr<int64_t> ParseUnits(std::string_view s, std::string_view what,
                                   const std::vector<std::pair<std::string_view, int64_t>>& units,
                                   bool ordered) {
  if (s == "0") return 0;
  if (s.empty()) return absl::InvalidArgumentError(absl::StrFormat("empty %s", what));
  int64_t total = 0;
  size_t last_unit = 0;
  std::string_view rest = s;
  bool any = false;
  while (!rest.empty()) {
    size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    if (digits == 0) {
      return absl::InvalidArgumentError(absl::StrFormat("invalid %s \"%s\"", what, s));
    }
    int64_t n;
    if (!absl::SimpleAtoi(Sv(rest.substr(0, digits)), &n)) {
      return absl::InvalidArgumentError(absl::StrFormat("invalid %s \"%s\"", what, s));
    }
    rest.remove_prefix(digits);
    size_t best = units.size();
    for (size_t i = 0; i < units.size(); ++i) {
      // Longest unit first among equals ("ms" before "m").
      if (rest.substr(0, units[i].first.size()) == units[i].first &&
          (best == units.size() || units[i].first.size() > units[best].first.size())) {
        best = i;
      }
    }
    if (best == units.size() || (ordered && any && best <= last_unit)) {
      return absl::InvalidArgumentError(absl::StrFormat("invalid %s \"%s\"", what, s));
    }
    rest.remove_prefix(units[best].first.size());
    if (n > INT64_MAX / units[best].second || total > INT64_MAX - n * units[best].second) {
      return absl::InvalidArgumentError(absl::StrFormat("%s \"%s\" is too large", what, s));
    }
    total += n * units[best].second;
    last_unit = best;
    any = true;
  }
  return total;
}

}  // namespace

absl::StatusOr<int64_t> ParsePrometheusDuration(std::string_view s) {
  static const std::vector<std::pair<std::string_view, int64_t>> kUnits = {
      {"y", 365LL * 24 * 3600 * 1000},
      {"w", 7LL * 24 * 3600 * 1000},
      {"d", 24LL * 3600 * 1000},
      {"h", 3600LL * 1000},
      {"m", 60LL * 1000},
      {"s", 1000},
      {"ms", 1}};
  return ParseUnits(s, "duration", kUnits, /*ordered=*/true);
}

absl::StatusOr<int64_t> ParseByteSize(std::string_view s) {
  static const std::vector<std::pair<std::string_view, int64_t>> kUnits = {
      {"EB", 1LL << 60}, {"PB", 1LL << 50}, {"TB", 1LL << 40}, {"GB", 1LL << 30},
      {"MB", 1LL << 20}, {"KB", 1LL << 10}, {"B", 1}};
  return ParseUnits(s, "size", kUnits, /*ordered=*/true);
}

absl::StatusOr<ServerFlags> ParseServerFlags(int argc, const char* const* argv) {
  ServerFlags flags;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h") arg = "--help";
    if (arg.substr(0, 2) != "--") {
      return absl::InvalidArgumentError(
          absl::StrFormat("unexpected argument \"%s\" (flags start with --)", arg));
    }
    arg.remove_prefix(2);
    std::string_view name = arg, value;
    bool has_value = false;
    if (size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    const FlagSpec* spec = Find(name);
    bool negated = false;
    if (spec == nullptr && name.substr(0, 3) == "no-") {
      spec = Find(name.substr(3));
      negated = spec != nullptr && spec->is_bool;
      if (!negated) spec = nullptr;
    }
    if (spec == nullptr) {
      return absl::InvalidArgumentError(absl::StrFormat("unknown flag --%s", name));
    }
    if (spec->is_bool) {
      if (!has_value) value = negated ? "false" : "true";
      if (value != "true" && value != "false") {
        return absl::InvalidArgumentError(
            absl::StrFormat("flag --%s: expected true or false, got \"%s\"", name, value));
      }
    } else if (!has_value) {
      if (i + 1 >= argc) {
        return absl::InvalidArgumentError(absl::StrFormat("flag --%s needs a value", name));
      }
      value = argv[++i];
    }
    if (absl::Status s = spec->set(&flags, value); !s.ok()) {
      if (absl::StartsWith(s.message(), "flag --")) return s;  // already names the flag
      return absl::InvalidArgumentError(
          absl::StrFormat("flag --%s: %s", spec->name, StdSv(s.message())));
    }
  }
  return flags;
}

std::string ServerFlagsUsage() {
  std::string out = "usage: cairn [<flags>]\n\nThe Cairn time-series database.\n\nFlags:\n";
  for (const FlagSpec& s : Specs()) {
    absl::StrAppendFormat(&out, "  --%-36s %s\n",
                          absl::StrCat(Sv(s.name), s.is_bool ? "" : "=VALUE"), s.help);
  }
  return out;
}

}  // namespace cairn::server
