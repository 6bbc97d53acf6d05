// CairnServer: the running `cairn` process minus main(): opens the DB, serves the
// HTTP API (query metadata, remote write, targets, /metrics, health), scrapes the
// targets of the Prometheus config file (--config.file, or an embedded config that
// scrapes Cairn itself), sends alerts to the config's Alertmanagers, and shuts down
// in order (stop scraping and alert sending, stop accepting, finish in-flight
// requests, close the DB so the WAL is synced).
//
// Thread-safety: Start() and Stop() are called from one thread; handlers run on the
// HTTP server's threads; ReloadConfig() may be called from any thread (SIGHUP,
// POST /-/reload) and reloads one at a time.
#ifndef CAIRN_SERVER_CAIRN_SERVER_H_
#define CAIRN_SERVER_CAIRN_SERVER_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/api_admin.h"
#include "server/api_alertmanagers.h"
#include "server/api_metadata.h"
#include "server/api_query.h"
#include "server/api_rules.h"
#include "server/api_status.h"
#include "server/api_targets.h"
#include "server/config/config.h"
#include "server/flags.h"
#include "server/grpc_ingest.h"
#include "server/http_server.h"
#include "server/limits.h"
#include "server/metrics_registry.h"
#include "server/notifier/alert.h"
#include "server/notifier/alertmanager_notifier.h"
#include "server/remote_write.h"
#include "server/rules/rule_manager.h"
#include "server/scrape/scrape_manager.h"
#include "server/web_security.h"
#include "server/web_ui.h"
#include "tsdb/db.h"

namespace cairn::server {

class CairnServer {
 public:
  explicit CairnServer(ServerFlags flags);
  ~CairnServer();

  absl::Status Start();
  void Stop();

  // Re-reads --config.file (or rebuilds the embedded config) and applies it. A config
  // that fails to load is refused with its error and the running one stays.
  absl::Status ReloadConfig();

  int http_port() const { return http_ != nullptr ? http_->port() : 0; }
  int grpc_port() const { return grpc_port_; }
  DB* db() const { return db_.get(); }
  scrape::ScrapeManager* scrape_manager() const { return scrape_manager_.get(); }
  // Where the rule manager sends its alerts (the Alertmanager notifier). Valid from
  // Start() until the server is destroyed; sends after Stop() are dropped.
  notifier::AlertSender* alert_sender() const { return notifier_.get(); }
  rules::RuleManager* rule_manager() const { return rule_manager_.get(); }

  // Where firing alerts go; null (the default) evaluates alerts without delivering
  // them. REQUIRES: called before Start(); `sender` outlives the server.
  void set_alert_sender(notifier::AlertSender* sender) { alert_sender_ = sender; }

 private:
  void RegisterRoutes();
  void RegisterMetrics();
  void HandleRemoteWrite(const HttpRequest& req, HttpResponse* resp);
  void CountWrite(std::string_view source, const RemoteWriteResult& result);
  absl::StatusOr<config::Config> LoadConfig() const;
  // Loads the config's rule files into the rule manager; an error leaves it as is.
  absl::Status ApplyRuleConfig(const config::Config& cfg);
  void HandleReload(const HttpRequest& req, HttpResponse* resp);
  // GET /api/v1/status/config: {"yaml": <the running configuration>}.
  void HandleStatusConfig(const HttpRequest& req, HttpResponse* resp);

  const ServerFlags flags_;
  std::unique_ptr<WebSecurity> web_security_;  // null without --web.config.file
  std::unique_ptr<DB> db_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<IngestService> ingest_service_;
  std::unique_ptr<grpc::Server> grpc_;
  int grpc_port_ = 0;
  std::unique_ptr<MetadataApi> metadata_api_;
  std::unique_ptr<promql::Engine> engine_;
  std::unique_ptr<QueryApi> query_api_;
  std::unique_ptr<StatusApi> status_api_;
  std::unique_ptr<WebUi> web_ui_;
  std::unique_ptr<scrape::ScrapeManager> scrape_manager_;
  std::unique_ptr<TargetsApi> targets_api_;
  std::unique_ptr<AdminApi> admin_api_;
  std::unique_ptr<notifier::AlertmanagerNotifier> notifier_;
  std::unique_ptr<AlertmanagersApi> alertmanagers_api_;
  notifier::AlertSender* alert_sender_ = nullptr;  // borrowed; may be null
  std::unique_ptr<rules::RuleManager> rule_manager_;
  std::unique_ptr<RulesApi> rules_api_;
  absl::Mutex reload_mu_;  // one reload at a time
  absl::Mutex config_text_mu_;
  // The text of the running configuration: --config.file as read at the last
  // successful (re)load, or the embedded default rendered as YAML.
  std::string config_text_ ABSL_GUARDED_BY(config_text_mu_);
  MetricsRegistry metrics_;
  RemoteWriteLimits write_limits_;
  std::unique_ptr<LimitMetrics> limit_metrics_;

  MetricFamily* http_requests_ = nullptr;
  MetricFamily* http_duration_ = nullptr;
  MetricFamily* samples_ingested_ = nullptr;
  MetricFamily* samples_rejected_ = nullptr;
  MetricFamily* remote_write_requests_ = nullptr;
  MetricFamily* grpc_write_requests_ = nullptr;
  MetricFamily* reload_successful_ = nullptr;
  MetricFamily* reload_success_time_ = nullptr;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_CAIRN_SERVER_H_
