// WebSecurity: the loaded --web.config.file and what is built from it — the TLS
// context for the HTTP listener and the basic-auth checker — swapped as a whole on
// Reload(). HttpServer takes a snapshot (Current()) for each new connection and keeps
// it for the connection's lifetime, so a reload affects new connections only and an
// in-flight handshake never sees a half-built state.
//
// Prometheus re-reads the web config file on every new connection. Cairn re-reads it
// on Reload() (SIGHUP and POST /-/reload): re-parsing YAML and PEM files per
// connection would cost every connection a few file reads. A web config that fails
// to load at start-up stops the server; one that fails on reload is refused with its
// error and the running one stays.
//
// Thread-safety: Current() and Reload() may be called concurrently from any thread.
#ifndef CAIRN_SERVER_WEB_SECURITY_H_
#define CAIRN_SERVER_WEB_SECURITY_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/basic_auth.h"
#include "server/web_config.h"

namespace boost::asio::ssl {
class context;
}

namespace cairn::server {

class WebSecurity {
 public:
  // Immutable once published.
  struct State {
    WebConfig config;
    std::shared_ptr<boost::asio::ssl::context> tls;  // null: plain HTTP
    std::unique_ptr<BasicAuthenticator> auth;        // null: no authentication
  };

  // Reads `path`, validates it and loads the certificate files.
  static absl::StatusOr<std::unique_ptr<WebSecurity>> Load(std::string path);
  // Builds a State from an already parsed config (tests).
  static absl::StatusOr<std::shared_ptr<const State>> Build(WebConfig config);

  // Re-reads the file; on error the current state stays.
  absl::Status Reload();
  std::shared_ptr<const State> Current() const;
  const std::string& path() const { return path_; }

 private:
  explicit WebSecurity(std::string path) : path_(std::move(path)) {}

  const std::string path_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const State> state_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_WEB_SECURITY_H_
