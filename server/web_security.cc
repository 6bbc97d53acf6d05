#include "server/web_security.h"

#include "absl/strings/str_cat.h"
#include "server/tls_context.h"

namespace cairn::server {

absl::StatusOr<std::shared_ptr<const WebSecurity::State>> WebSecurity::Build(WebConfig config) {
  auto state = std::make_shared<State>();
  if (config.tls_enabled) {
    absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> tls =
        MakeServerTlsContext(config.tls);
    if (!tls.ok()) {
      return absl::Status(tls.status().code(),
                          absl::StrCat(config.source, ": ", tls.status().message()));
    }
    state->tls = std::move(*tls);
  }
  if (!config.basic_auth_users.empty()) {
    state->auth = std::make_unique<BasicAuthenticator>(config.basic_auth_users);
  }
  state->config = std::move(config);
  return std::shared_ptr<const State>(std::move(state));
}

absl::StatusOr<std::unique_ptr<WebSecurity>> WebSecurity::Load(std::string path) {
  std::unique_ptr<WebSecurity> ws(new WebSecurity(std::move(path)));
  if (absl::Status s = ws->Reload(); !s.ok()) return s;
  return ws;
}

absl::Status WebSecurity::Reload() {
  absl::StatusOr<WebConfig> cfg = LoadWebConfigFile(path_);
  if (!cfg.ok()) return cfg.status();
  absl::StatusOr<std::shared_ptr<const State>> state = Build(std::move(*cfg));
  if (!state.ok()) return state.status();
  absl::MutexLock l(&mu_);
  state_ = std::move(*state);
  return absl::OkStatus();
}

std::shared_ptr<const WebSecurity::State> WebSecurity::Current() const {
  absl::MutexLock l(&mu_);
  return state_;
}

}  // namespace cairn::server
