// The cairn server: parses flags, starts CairnServer (storage + HTTP API + scraping)
// and runs until SIGTERM/SIGINT, then shuts down cleanly (in-flight requests finish,
// the WAL is synced and closed). SIGHUP reloads the configuration file; a bad one is
// refused and the running configuration stays.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "server/cairn_server.h"
#include "server/flags.h"

int main(int argc, char** argv) {
  // Debian's Abseil is built with deadlock detection on by default; it cost 60% of
  // append time in bench/tsdb/head. Lock order is checked in tests instead.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::StatusOr<cairn::server::ServerFlags> flags = cairn::server::ParseServerFlags(argc, argv);
  if (!flags.ok()) {
    std::fprintf(stderr, "cairn: %s\n\n%s", std::string(flags.status().message()).c_str(),
                 cairn::server::ServerFlagsUsage().c_str());
    return 2;
  }
  if (flags->help) {
    std::printf("%s", cairn::server::ServerFlagsUsage().c_str());
    return 0;
  }
  if (flags->version) {
    std::printf("cairn, version 0.1.0\n");
    return 0;
  }
  // Blocked before any thread starts, so every thread inherits the mask and the
  // signals reach only the sigwait below (an unblocked thread would die of SIGHUP).
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  cairn::server::CairnServer server(*flags);
  if (absl::Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "cairn: %s\n", std::string(s.message()).c_str());
    return 1;
  }

  int sig = 0;
  while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
    // ReloadConfig logs the outcome; a failure keeps the running configuration.
    server.ReloadConfig().IgnoreError();
  }
  std::fprintf(stderr, "cairn: received %s, shutting down\n", strsignal(sig));
  server.Stop();
  return 0;
}
