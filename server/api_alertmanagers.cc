#include "server/api_alertmanagers.h"

#include <string>
#include <vector>

#include "server/api_util.h"

namespace cairn::server {
namespace {

void AppendUrlList(std::string* out, const std::vector<notifier::AlertmanagerTarget>& targets) {
  out->push_back('[');
  for (size_t i = 0; i < targets.size(); ++i) {
    if (i > 0) out->push_back(',');
    *out += "{\"url\":";
    AppendJsonString(out, targets[i].url);
    out->push_back('}');
  }
  out->push_back(']');
}

}  // namespace

void AlertmanagersApi::Register(HttpServer* server) {
  server->Route("/api/v1/alertmanagers",
                [this](const HttpRequest& req, HttpResponse* resp) { Alertmanagers(req, resp); });
}

void AlertmanagersApi::Alertmanagers(const HttpRequest&, HttpResponse* resp) const {
  notifier::AlertmanagerSet set = notifier_->alertmanagers();
  std::string out = "{\"activeAlertmanagers\":";
  AppendUrlList(&out, set.active);
  out += ",\"droppedAlertmanagers\":";
  AppendUrlList(&out, set.dropped);
  out += "}";
  RespondSuccess(resp, out);
}

}  // namespace cairn::server
