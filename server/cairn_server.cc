#include "server/cairn_server.h"

#include <grpcpp/grpcpp.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "server/api_util.h"
#include "server/notifier_metrics.h"
#include "server/rule_metrics.h"
#include "server/rules/rule_file.h"
#include "tsdb/storage/append_error.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::server {
namespace {
// Per HTTP worker thread: the largest decompressed remote-write buffer kept between
// requests.
constexpr size_t kKeptRemoteWriteBufferBytes = 4 << 20;
}  // namespace
CairnServer::CairnServer(ServerFlags flags) : flags_(std::move(flags)) {}

CairnServer::~CairnServer() { Stop(); }

absl::Status CairnServer::Start() {
  // A bad config file stops startup before anything is opened, as in Prometheus.
  if (!flags_.config_file.empty()) {
    absl::StatusOr<config::Config> cfg = config::LoadConfigFile(flags_.config_file);
    if (!cfg.ok()) {
      return absl::Status(cfg.status().code(),
                          absl::StrCat("loading config: ", cfg.status().message()));
    }
  }
  if (!flags_.web_config_file.empty()) {
    absl::StatusOr<std::unique_ptr<WebSecurity>> ws = WebSecurity::Load(flags_.web_config_file);
    if (!ws.ok()) {
      return absl::Status(ws.status().code(),
                          absl::StrCat("loading web config: ", ws.status().message()));
    }
    web_security_ = std::move(*ws);
  }
  absl::StatusOr<ServerLimits> limits = ServerLimitsFromFlags(flags_);
  if (!limits.ok()) return limits.status();
  write_limits_ = limits->write;
  DbOptions db_opts;
  db_opts.max_head_series = limits->tsdb_max_series;
  absl::StatusOr<int64_t> retention = ParsePrometheusDuration(flags_.retention_time);
  if (!retention.ok()) return retention.status();
  db_opts.retention_ms = *retention;
  absl::StatusOr<int64_t> retention_bytes = ParseByteSize(flags_.retention_size);
  if (!retention_bytes.ok()) return retention_bytes.status();
  db_opts.retention_bytes = *retention_bytes;
  db_opts.prometheus_compatible_blocks = flags_.prometheus_compatible_blocks;
  db_opts.wal_fsync_on_commit = flags_.wal_fsync_on_commit;
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(flags_.storage_path, db_opts);
  if (!db.ok()) {
    return absl::Status(db.status().code(), absl::StrCat("opening storage at ", flags_.storage_path,
                                                         ": ", db.status().message()));
  }
  db_ = std::move(*db);
  DbStats st = db_->stats();
  std::fprintf(stderr, "cairn: storage %s open: %llu head series, %llu blocks\n",
               flags_.storage_path.c_str(), static_cast<unsigned long long>(st.head_series),
               static_cast<unsigned long long>(st.blocks));

  HttpServer::Options http_opts;
  http_opts.listen_address = flags_.web_listen_address;
  http_opts.max_body_bytes = limits->http_max_body_bytes;
  http_opts.max_connections = limits->http_max_connections;
  http_ = std::make_unique<HttpServer>(http_opts);
  http_->SetSecurity(web_security_.get());
  metadata_api_ = std::make_unique<MetadataApi>(db_.get());
  promql::EngineOptions engine_opts;
  absl::StatusOr<int64_t> lookback = ParsePrometheusDuration(flags_.lookback_delta);
  if (!lookback.ok()) return lookback.status();
  engine_opts.lookback_delta = absl::Milliseconds(*lookback);
  absl::StatusOr<int64_t> query_timeout = ParsePrometheusDuration(flags_.query_timeout);
  if (!query_timeout.ok()) return query_timeout.status();
  engine_opts.timeout = absl::Milliseconds(*query_timeout);
  engine_opts.max_samples = flags_.query_max_samples;
  engine_opts.max_concurrent_queries = static_cast<int>(flags_.query_max_concurrency);
  engine_ = std::make_unique<promql::Engine>(engine_opts);
  query_api_ = std::make_unique<QueryApi>(db_.get(), engine_.get());
  status_api_ = std::make_unique<StatusApi>(db_.get(), flags_);
  web_ui_ = std::make_unique<WebUi>();
  scrape_manager_ = std::make_unique<scrape::ScrapeManager>(db_.get());
  targets_api_ = std::make_unique<TargetsApi>(scrape_manager_.get());
  admin_api_ = std::make_unique<AdminApi>(db_.get(), flags_.enable_admin_api);
  notifier::AlertmanagerNotifier::Options notifier_opts;
  notifier_opts.queue_capacity = static_cast<size_t>(flags_.alertmanager_queue_capacity);
  notifier_ = std::make_unique<notifier::AlertmanagerNotifier>(notifier_opts);
  alertmanagers_api_ = std::make_unique<AlertmanagersApi>(notifier_.get());
  rules::RuleManager::Options rule_opts;
  rule_opts.engine = engine_.get();
  rule_opts.queryable = db_.get();
  rule_opts.appendable = db_.get();
  rule_opts.sender = alert_sender_ != nullptr ? alert_sender_ : notifier_.get();
  {
    // Prometheus' default --web.external-url: http://<hostname>:<listen port>.
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) != 0) std::snprintf(host, sizeof(host), "localhost");
    const std::string& listen = flags_.web_listen_address;
    rule_opts.external_url =
        absl::StrCat("http://", host, ":", listen.substr(listen.rfind(':') + 1));
  }
  rule_manager_ = std::make_unique<rules::RuleManager>(rule_opts);
  rules_api_ = std::make_unique<RulesApi>(rule_manager_.get());
  RegisterMetrics();
  RegisterRuleMetrics(&metrics_, rule_manager_.get());
  limit_metrics_ = std::make_unique<LimitMetrics>(&metrics_, http_.get(), engine_.get(), db_.get());
  RegisterRoutes();
  if (absl::Status s = http_->Start(); !s.ok()) return s;
  std::fprintf(stderr, "cairn: listening on %s (port %d)\n", flags_.web_listen_address.c_str(),
               http_->port());
  if (absl::Status s = ReloadConfig(); !s.ok()) return s;
  rule_manager_->Start();
  ingest_service_ = std::make_unique<IngestService>(
      db_.get(), write_limits_, [this](const RemoteWriteResult& r, const absl::Status& s) {
        CountWrite("grpc", r);
        grpc_write_requests_->Inc({absl::StatusCodeToString(s.code())});
        limit_metrics_->CountWriteRefusal(s);
      });
  ingest_service_->SetSecurity(web_security_.get());
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> grpc_creds = MakeGrpcServerCredentials(
      web_security_ != nullptr ? &web_security_->Current()->config : nullptr);
  if (!grpc_creds.ok()) return grpc_creds.status();
  absl::StatusOr<std::unique_ptr<grpc::Server>> grpc =
      StartGrpcServer(flags_.grpc_listen_address, ingest_service_.get(), &grpc_port_, *grpc_creds,
                      write_limits_.max_decompressed_bytes);
  if (!grpc.ok()) return grpc.status();
  grpc_ = std::move(*grpc);
  std::fprintf(stderr, "cairn: gRPC listening on %s (port %d)\n",
               flags_.grpc_listen_address.c_str(), grpc_port_);
  return absl::OkStatus();
}

void CairnServer::Stop() {
  if (scrape_manager_ != nullptr) scrape_manager_->Stop();
  // Rule evaluations append to the DB: they stop before it closes.
  if (rule_manager_ != nullptr) rule_manager_->Stop();
  if (notifier_ != nullptr) notifier_->Stop();
  if (grpc_ != nullptr) {
    grpc_->Shutdown();
    grpc_.reset();
  }
  if (http_ != nullptr) http_->Stop();
  if (db_ != nullptr) {
    if (absl::Status s = db_->Close(); !s.ok()) {
      std::fprintf(stderr, "cairn: closing storage: %s\n", std::string(s.message()).c_str());
    }
  }
}

void CairnServer::RegisterMetrics() {
  http_requests_ = metrics_.AddCounter("prometheus_http_requests_total",
                                       "Counter of HTTP requests.", {"handler", "code"});
  http_duration_ = metrics_.AddHistogram("prometheus_http_request_duration_seconds",
                                         "Histogram of latencies for HTTP requests.", {"handler"},
                                         MetricsRegistry::DefaultBuckets());
  samples_ingested_ =
      metrics_.AddCounter("cairn_samples_ingested_total", "Samples stored, by source.", {"source"});
  samples_rejected_ =
      metrics_.AddCounter("cairn_samples_rejected_total", "Samples refused, by source and reason.",
                          {"source", "reason"});
  remote_write_requests_ = metrics_.AddCounter(
      "cairn_remote_write_requests_total", "Remote-write requests, by response code.", {"code"});
  grpc_write_requests_ = metrics_.AddCounter(
      "cairn_grpc_write_requests_total",
      "WriteRequests received over gRPC (Write calls and WriteStream messages), by status code.",
      {"code"});
  reload_successful_ =
      metrics_.AddGauge("prometheus_config_last_reload_successful",
                        "Whether the last configuration reload attempt was successful.");
  reload_success_time_ =
      metrics_.AddGauge("prometheus_config_last_reload_success_timestamp_seconds",
                        "Timestamp of the last successful configuration reload.");
  MetricFamily* head_series =
      metrics_.AddGauge("prometheus_tsdb_head_series", "Total number of series in the head block.");
  MetricFamily* head_chunks =
      metrics_.AddGauge("prometheus_tsdb_head_chunks", "Total number of chunks in the head block.");
  MetricFamily* blocks =
      metrics_.AddGauge("prometheus_tsdb_blocks_loaded", "Number of currently loaded data blocks.");
  MetricFamily* build = metrics_.AddGauge("cairn_build_info", "Build information.", {"version"});
  build->Set({kCairnVersion}, 1);
  MetricFamily* block_bytes = metrics_.AddGauge(
      "prometheus_tsdb_storage_blocks_bytes",
      "The number of bytes that are currently used for local storage by all blocks.");
  MetricFamily* compactions = metrics_.AddCounter(
      "prometheus_tsdb_compactions_total", "Total number of compactions that were executed.");
  MetricFamily* compactions_failed = metrics_.AddCounter(
      "prometheus_tsdb_compactions_failed_total", "Total number of compactions that failed.");
  MetricFamily* compaction_seconds = metrics_.AddGauge(
      "cairn_tsdb_last_compaction_duration_seconds", "Duration of the last compaction.");
  MetricFamily* retentions = metrics_.AddCounter("cairn_tsdb_blocks_deleted_by_retention_total",
                                                 "Blocks deleted by time or size retention.");
  MetricFamily* corrupt = metrics_.AddGauge(
      "cairn_tsdb_corrupt_blocks", "Blocks skipped at start-up because they could not be read.");
  MetricFamily* wal_fsyncs =
      metrics_.AddCounter("cairn_tsdb_wal_fsyncs_total", "WAL fsyncs (group commits share one).");
  MetricFamily* wal_fsync_seconds = metrics_.AddCounter(
      "cairn_tsdb_wal_fsync_seconds_total",
      "Wall time spent in WAL fsyncs; divided by cairn_tsdb_wal_fsyncs_total, the mean "
      "fsync duration.");
  MetricFamily* wal_bytes = metrics_.AddCounter("cairn_tsdb_wal_bytes_written_total",
                                                "Bytes written to the WAL, framing included.");
  MetricFamily* wal_corruptions = metrics_.AddCounter("prometheus_tsdb_wal_corruptions_total",
                                                      "Total number of WAL corruptions repaired.");
  metrics_.AddCollector([=, this] {
    DbStats s = db_->stats();
    wal_fsyncs->Set({}, static_cast<double>(s.wal_fsyncs));
    wal_fsync_seconds->Set({}, s.wal_fsync_seconds);
    wal_bytes->Set({}, static_cast<double>(s.wal_bytes_written));
    wal_corruptions->Set({}, static_cast<double>(s.wal_corruptions_repaired));
    head_series->Set({}, static_cast<double>(s.head_series));
    head_chunks->Set({}, static_cast<double>(s.head_chunks));
    blocks->Set({}, static_cast<double>(s.blocks));
    block_bytes->Set({}, static_cast<double>(s.blocks_bytes));
    compactions->Set({}, static_cast<double>(s.compactions));
    compactions_failed->Set({}, static_cast<double>(s.compaction_failures));
    compaction_seconds->Set({}, s.last_compaction_seconds);
    retentions->Set({}, static_cast<double>(s.blocks_deleted_by_retention));
    corrupt->Set({}, static_cast<double>(s.corrupt_blocks_skipped));
  });
  RegisterNotifierMetrics(notifier_.get(), &metrics_);
  http_->SetObserver([this](std::string_view handler, int code, double seconds) {
    std::string h = handler.empty() ? "other" : std::string(handler);
    http_requests_->Inc({h, std::to_string(code)});
    http_duration_->Observe({h}, seconds);
  });
}

void CairnServer::RegisterRoutes() {
  http_->Route("/-/healthy",
               [](const HttpRequest&, HttpResponse* resp) { resp->body = "Cairn is Healthy.\n"; });
  http_->Route("/-/ready",
               [](const HttpRequest&, HttpResponse* resp) { resp->body = "Cairn is Ready.\n"; });
  http_->Route("/metrics", [this](const HttpRequest&, HttpResponse* resp) {
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    resp->body = metrics_.Render();
  });
  http_->Route("/api/v1/write", [this](const HttpRequest& req, HttpResponse* resp) {
    HandleRemoteWrite(req, resp);
  });
  http_->Route("/api/v1/status/config", [this](const HttpRequest& req, HttpResponse* resp) {
    HandleStatusConfig(req, resp);
  });
  http_->Route("/-/reload",
               [this](const HttpRequest& req, HttpResponse* resp) { HandleReload(req, resp); });
  status_api_->Register(http_.get());
  metadata_api_->Register(http_.get());
  web_ui_->Register(http_.get());
  query_api_->Register(http_.get());
  targets_api_->Register(http_.get());
  admin_api_->Register(http_.get());
  alertmanagers_api_->Register(http_.get());
  rules_api_->Register(http_.get());
}

absl::StatusOr<config::Config> CairnServer::LoadConfig() const {
  if (!flags_.config_file.empty()) return config::LoadConfigFile(flags_.config_file);
  // The embedded config scrapes this process through the port actually bound.
  return config::DefaultConfig(absl::StrCat("localhost:", http_->port()));
}

absl::Status CairnServer::ReloadConfig() {
  absl::MutexLock lock(&reload_mu_);
  // The web config reloads beside the main one but on its own: a bad web config keeps
  // the running one (new HTTP connections use the new one; gRPC keeps its start-up TLS).
  if (web_security_ != nullptr) {
    if (absl::Status s = web_security_->Reload(); !s.ok()) {
      std::fprintf(stderr, "cairn: error reloading web config (kept the running one): %s\n",
                   std::string(s.message()).c_str());
    }
  }
  absl::StatusOr<config::Config> cfg = LoadConfig();
  if (!cfg.ok()) {
    reload_successful_->Set({}, 0);
    std::fprintf(stderr, "cairn: error loading config (--config.file=%s): %s\n",
                 flags_.config_file.c_str(), std::string(cfg.status().message()).c_str());
    return cfg.status();
  }
  if (absl::Status s = ApplyRuleConfig(*cfg); !s.ok()) {
    reload_successful_->Set({}, 0);
    std::fprintf(stderr, "cairn: error loading rules (--config.file=%s): %s\n",
                 flags_.config_file.c_str(), std::string(s.message()).c_str());
    return s;
  }
  notifier_->ApplyConfig(*cfg);
  scrape_manager_->ApplyConfig(*cfg);
  {
    std::string text;
    if (flags_.config_file.empty()) {
      text = absl::StrCat(
          "global:\n  scrape_interval: 15s\n  scrape_timeout: 10s\n  evaluation_interval: 15s\n"
          "scrape_configs:\n- job_name: cairn\n  static_configs:\n  - targets:\n    - ",
          cfg->scrape_configs.empty() || cfg->scrape_configs[0].static_configs.empty() ||
                  cfg->scrape_configs[0].static_configs[0].targets.empty()
              ? std::string()
              : cfg->scrape_configs[0].static_configs[0].targets[0],
          "\n");
    } else {
      // Read after a successful load: an edit in between shows the newer text, which
      // the next reload would apply.
      std::ifstream in(flags_.config_file, std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      text = ss.str();
    }
    absl::MutexLock l(&config_text_mu_);
    config_text_ = std::move(text);
  }
  reload_successful_->Set({}, 1);
  reload_success_time_->Set({}, absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()));
  std::fprintf(stderr, "cairn: loaded config %s (%zu scrape configs)\n", cfg->source.c_str(),
               cfg->scrape_configs.size());
  return absl::OkStatus();
}

absl::Status CairnServer::ApplyRuleConfig(const config::Config& cfg) {
  // Relative rule_files patterns are relative to the config file, as in Prometheus.
  std::string dir;
  if (!flags_.config_file.empty()) {
    dir = std::filesystem::path(flags_.config_file).parent_path().string();
  }
  absl::StatusOr<std::vector<std::string>> files = rules::ExpandRuleFileGlobs(cfg.rule_files, dir);
  if (!files.ok()) return files.status();
  rules::RulesConfig rc;
  rc.files = std::move(*files);
  rc.evaluation_interval_ms = absl::ToInt64Milliseconds(cfg.global.evaluation_interval);
  rc.external_labels = cfg.global.external_labels;
  if (absl::Status s = rule_manager_->Update(rc); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("loading rule files: ", s.message()));
  }
  return absl::OkStatus();
}

void CairnServer::HandleStatusConfig(const HttpRequest&, HttpResponse* resp) {
  std::string data = "{\"yaml\":";
  {
    absl::MutexLock l(&config_text_mu_);
    AppendJsonString(&data, config_text_);
  }
  data += "}";
  RespondSuccess(resp, data);
}

void CairnServer::HandleReload(const HttpRequest& req, HttpResponse* resp) {
  if (req.method != "POST" && req.method != "PUT") {
    resp->status = 405;
    resp->body = "Only POST or PUT requests allowed\n";
    return;
  }
  if (!flags_.enable_lifecycle) {
    resp->status = 403;
    resp->body = "Lifecycle API is not enabled.\n";
    return;
  }
  if (absl::Status s = ReloadConfig(); !s.ok()) {
    resp->status = 500;
    resp->body = absl::StrCat("failed to reload config: ", s.message(), "\n");
  }
}

void CairnServer::CountWrite(std::string_view source, const RemoteWriteResult& result) {
  const std::string src(source);
  samples_ingested_->Inc({src}, static_cast<double>(result.samples_accepted));
  for (int r = 0; r < storage::kRejectReasonCount; ++r) {
    if (result.rejected_by_reason[r] == 0) continue;
    samples_rejected_->Inc(
        {src, std::string(storage::RejectReasonName(static_cast<storage::RejectReason>(r)))},
        static_cast<double>(result.rejected_by_reason[r]));
  }
}

void CairnServer::HandleRemoteWrite(const HttpRequest& req, HttpResponse* resp) {
  auto finish = [&](int code, std::string body) {
    resp->status = code;
    resp->body = std::move(body);
    remote_write_requests_->Inc({std::to_string(code)});
  };
  if (req.method != "POST") return finish(405, "remote write takes POST\n");
  // The decompressed body and its parsed view are kept per HTTP worker thread and
  // reused, so a steady stream of requests allocates nothing for them; a buffer that
  // grew for an unusually big request is released afterwards.
  thread_local std::string raw;
  thread_local WriteRequestView wr;
  struct ShrinkAfter {
    ~ShrinkAfter() {
      if (raw.capacity() > kKeptRemoteWriteBufferBytes) std::string().swap(raw);
    }
  } shrink_after;
  absl::Status s = DecodeSnappyWriteRequest(req.body, write_limits_, &raw, &wr);
  if (!s.ok()) {
    limit_metrics_->CountWriteRefusal(s);
    return finish(RemoteWriteHttpStatus(s), absl::StrCat(s.message(), "\n"));
  }
  RemoteWriteResult result;
  s = IngestWriteRequest(wr, write_limits_, db_.get(), &result);
  CountWrite("remote_write", result);
  if (!s.ok()) {
    limit_metrics_->CountWriteRefusal(s);
    int code = RemoteWriteHttpStatus(s);
    std::fprintf(stderr, "cairn: remote write from %s refused: %s\n", req.remote_address.c_str(),
                 std::string(s.message()).c_str());
    return finish(code, absl::StrCat(s.message(), "\n"));
  }
  if (!result.first_rejection.ok()) {
    // Prometheus answers 400 so senders drop the batch instead of retrying it; the
    // request's valid samples are stored.
    return finish(400, absl::StrCat(result.first_rejection.message(), "\n"));
  }
  finish(204, "");
}

}  // namespace cairn::server
