// The cairn server. Until the HTTP API lands it opens the data directory, logs what
// it found and waits for SIGTERM/SIGINT, then closes cleanly.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "server/flags.h"
#include "tsdb/io/file_system.h"

int main(int argc, char** argv) {
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
  const std::string& data_dir = flags->storage_path;
  if (absl::Status s = cairn::io::FileSystem::Default()->CreateDirs(data_dir); !s.ok()) {
    std::fprintf(stderr, "cairn: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  std::fprintf(stderr, "cairn: data directory %s ready; waiting for SIGTERM\n", data_dir.c_str());

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  int sig = 0;
  sigwait(&set, &sig);
  std::fprintf(stderr, "cairn: received %s, shutting down\n", strsignal(sig));
  return 0;
}
