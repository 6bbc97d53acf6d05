// The cairn server: parses flags, starts CairnServer (storage + HTTP API) and runs
// until SIGTERM/SIGINT, then shuts down cleanly (in-flight requests finish, the WAL
// is synced and closed).
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
  cairn::server::CairnServer server(*flags);
  if (absl::Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "cairn: %s\n", std::string(s.message()).c_str());
    return 1;
  }

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  int sig = 0;
  sigwait(&set, &sig);
  std::fprintf(stderr, "cairn: received %s, shutting down\n", strsignal(sig));
  server.Stop();
  return 0;
}
