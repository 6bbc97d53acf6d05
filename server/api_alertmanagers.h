// The Prometheus API's /api/v1/alertmanagers: the Alertmanagers the notifier sends
// to and those that alertmanager relabelling dropped, in Prometheus 2.42's shape
// (docs/api.md):
//
//   {"status":"success","data":{
//     "activeAlertmanagers":[{"url":"http://127.0.0.1:9093/api/v2/alerts"}],
//     "droppedAlertmanagers":[{"url":"http://127.0.0.1:9094/api/v2/alerts"}]}}
//
// Thread-safety: the handler may run concurrently with itself and with config
// reloads (the notifier is thread-safe).
#ifndef CAIRN_SERVER_API_ALERTMANAGERS_H_
#define CAIRN_SERVER_API_ALERTMANAGERS_H_

#include "server/http_server.h"
#include "server/notifier/alertmanager_notifier.h"

namespace cairn::server {

class AlertmanagersApi {
 public:
  // `notifier` is borrowed and must outlive this object.
  explicit AlertmanagersApi(const notifier::AlertmanagerNotifier* notifier) : notifier_(notifier) {}

  void Register(HttpServer* server);
  void Alertmanagers(const HttpRequest& req, HttpResponse* resp) const;

 private:
  const notifier::AlertmanagerNotifier* notifier_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_API_ALERTMANAGERS_H_
