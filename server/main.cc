// The cairn server. Until the HTTP API lands it opens the data directory, logs what
// it found and waits for SIGTERM/SIGINT, then closes cleanly.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "tsdb/io/file_system.h"

namespace {

void PrintUsage() {
  std::printf(
      "usage: cairn [flags]\n"
      "  --storage.tsdb.path=DIR   data directory (default ./data)\n"
      "  --help                    this text\n"
      "  --version                 print the version\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir = "data";
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      PrintUsage();
      return 0;
    }
    if (arg == "--version") {
      std::printf("cairn, version 0.1.0\n");
      return 0;
    }
    constexpr std::string_view kPath = "--storage.tsdb.path=";
    if (arg.substr(0, kPath.size()) == kPath) {
      data_dir = std::string(arg.substr(kPath.size()));
      continue;
    }
    std::fprintf(stderr, "cairn: unknown flag %s\n", argv[i]);
    PrintUsage();
    return 2;
  }

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
