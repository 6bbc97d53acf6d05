#include "server/web_security.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>

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

std::vector<WebSecurity::FileStamp> WebSecurity::Stamp(const std::string& path,
                                                       const WebConfig* config) {
  std::vector<std::string> paths = {path};
  if (config != nullptr && config->tls_enabled) {
    paths.push_back(config->tls.cert_file);
    paths.push_back(config->tls.key_file);
    if (!config->tls.client_ca_file.empty()) paths.push_back(config->tls.client_ca_file);
  }
  std::vector<FileStamp> out;
  for (std::string& p : paths) {
    FileStamp f;
    struct stat st;
    if (stat(p.c_str(), &st) == 0) {
      f.exists = true;
      f.inode = st.st_ino;
      f.size = st.st_size;
      f.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    }
    f.path = std::move(p);
    out.push_back(std::move(f));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<WebSecurity>> WebSecurity::Load(std::string path,
                                                               absl::Duration check_interval) {
  std::unique_ptr<WebSecurity> ws(new WebSecurity(std::move(path), check_interval));
  if (absl::Status s = ws->Reload(); !s.ok()) return s;
  return ws;
}

absl::Status WebSecurity::Reload() {
  absl::MutexLock reload(&reload_mu_);
  // Stamped before reading: a change during the read shows up at the next check.
  std::vector<FileStamp> before = Stamp(path_, nullptr);
  absl::StatusOr<WebConfig> cfg = LoadWebConfigFile(path_);
  absl::Status status = cfg.status();
  absl::StatusOr<std::shared_ptr<const State>> state;
  if (cfg.ok()) {
    std::vector<FileStamp> files = Stamp(path_, &*cfg);
    before.insert(before.end(), files.begin() + 1, files.end());
    state = Build(std::move(*cfg));
    status = state.status();
  }
  if (!status.ok()) return status;
  absl::MutexLock l(&mu_);
  state_ = std::move(*state);
  loaded_stamps_ = std::move(before);
  failed_stamps_.clear();
  return absl::OkStatus();
}

void WebSecurity::ReloadIfChanged() {
  std::vector<FileStamp> loaded, failed;
  {
    absl::MutexLock l(&mu_);
    loaded = loaded_stamps_;
    failed = failed_stamps_;
  }
  // The paths the running state was built from (the web config names the others).
  std::vector<FileStamp> now;
  for (const FileStamp& f : loaded) now.push_back(std::move(Stamp(f.path, nullptr)[0]));
  // Unchanged, or changed into something that already failed to load: a broken edit
  // costs one parse and one log line, not one per connection.
  if (now == loaded || now == failed) return;
  if (absl::Status s = Reload(); !s.ok()) {
    {
      absl::MutexLock l(&mu_);
      failed_stamps_ = std::move(now);
    }
    std::fprintf(stderr,
                 "cairn: web config %s changed but does not load (kept the running one): %s\n",
                 path_.c_str(), std::string(s.message()).c_str());
  } else {
    std::fprintf(stderr, "cairn: web config %s changed: reloaded\n", path_.c_str());
  }
}

std::shared_ptr<const WebSecurity::State> WebSecurity::Current() {
  if (check_interval_ >= absl::ZeroDuration()) {
    const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
    int64_t next = next_check_ns_.load(std::memory_order_relaxed);
    if (now >= next &&
        next_check_ns_.compare_exchange_strong(
            next, now + absl::ToInt64Nanoseconds(check_interval_), std::memory_order_relaxed)) {
      ReloadIfChanged();
    }
  }
  absl::MutexLock l(&mu_);
  return state_;
}

}  // namespace cairn::server
