// WebSecurity: the loaded --web.config.file and what is built from it — the TLS
// context for the HTTP listener and the basic-auth checker — swapped as a whole on
// Reload(). HttpServer takes a snapshot (Current()) for each new connection and keeps
// it for the connection's lifetime, so a reload affects new connections only and an
// in-flight handshake never sees a half-built state.
//
// Prometheus re-reads the web config file on every new connection, so edited users
// and rotated certificates apply without a signal. Cairn re-reads it on Reload()
// (SIGHUP and POST /-/reload) and, between reloads, Current() looks at the files'
// stat() (the web config, certificate, key and client CA: inode, size, mtime) at most
// once per `check_interval` and reloads when one changed. Re-parsing YAML and PEM
// per connection, as Prometheus does, would cost every connection several file
// reads. A web config that fails to load at start-up stops the server; one that
// fails later is refused with its error (logged once per change) and the running
// one stays.
//
// Thread-safety: Current() and Reload() may be called concurrently from any thread.
#ifndef CAIRN_SERVER_WEB_SECURITY_H_
#define CAIRN_SERVER_WEB_SECURITY_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
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

  // Reads `path`, validates it and loads the certificate files. `check_interval`:
  // how often Current() may stat the files for changes (zero: on every call,
  // negative: never).
  static absl::StatusOr<std::unique_ptr<WebSecurity>> Load(
      std::string path, absl::Duration check_interval = absl::Seconds(1));
  // Builds a State from an already parsed config (tests).
  static absl::StatusOr<std::shared_ptr<const State>> Build(WebConfig config);

  // Re-reads the file; on error the current state stays.
  absl::Status Reload();
  // The state for a new connection; may first reload changed files (see above).
  std::shared_ptr<const State> Current();
  const std::string& path() const { return path_; }

 private:
  // Identity of one file's content as stat() sees it.
  struct FileStamp {
    std::string path;
    bool exists = false;
    uint64_t inode = 0;
    int64_t size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const FileStamp&) const = default;
  };
  static std::vector<FileStamp> Stamp(const std::string& path, const WebConfig* config);

  WebSecurity(std::string path, absl::Duration check_interval)
      : path_(std::move(path)), check_interval_(check_interval) {}
  void ReloadIfChanged();

  const std::string path_;
  const absl::Duration check_interval_;
  std::atomic<int64_t> next_check_ns_{0};  // steady clock; one caller wins each check
  mutable absl::Mutex mu_;
  std::shared_ptr<const State> state_ ABSL_GUARDED_BY(mu_);
  // The files as they were when `state_` was built, and the same paths as they were
  // at the last failed automatic reload (so one bad edit is logged once).
  std::vector<FileStamp> loaded_stamps_ ABSL_GUARDED_BY(mu_);
  std::vector<FileStamp> failed_stamps_ ABSL_GUARDED_BY(mu_);
  absl::Mutex reload_mu_;  // one reload at a time; taken before mu_
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_WEB_SECURITY_H_
