// fake_exporter: one HTTP server standing in for many exporters, for the scrape
// macro benchmark (bench/scrape_compare.sh). Every path serves the same page of
// --series series (node_exporter-like names and labels); GET /count returns how many
// pages were served so far, which is how the benchmark counts completed scrapes.
//
//   fake_exporter --listen=0.0.0.0:19400 --series=100
#include <atomic>
#include <csignal>
#include <cstdio>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/http_server.h"

int main(int argc, char** argv) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::string listen = "0.0.0.0:19400";
  int series = 100;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--listen=", 0) == 0) listen = a.substr(9);
    if (a.rfind("--series=", 0) == 0 && !absl::SimpleAtoi(a.substr(9), &series)) return 2;
  }
  std::string page;
  const char* modes[] = {"idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"};
  absl::StrAppend(&page, "# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.\n",
                  "# TYPE node_cpu_seconds_total counter\n");
  for (int i = 0; i < series; ++i) {
    absl::StrAppend(&page, "node_cpu_seconds_total{cpu=\"", i / 8, "\",mode=\"", modes[i % 8],
                    "\"} ", 12345.67 + i, "\n");
  }
  std::atomic<uint64_t> served{0};
  cairn::server::HttpServer::Options opts;
  opts.listen_address = listen;
  opts.threads = 2;
  opts.max_connections = 4096;
  cairn::server::HttpServer http(opts);
  http.Route("/count", [&](const cairn::server::HttpRequest&, cairn::server::HttpResponse* resp) {
    resp->body = absl::StrCat(served.load(), "\n");
  });
  http.Route(
      "/",
      [&](const cairn::server::HttpRequest&, cairn::server::HttpResponse* resp) {
        served.fetch_add(1, std::memory_order_relaxed);
        resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
        resp->body = page;
      },
      /*prefix=*/true);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  if (absl::Status s = http.Start(); !s.ok()) {
    std::fprintf(stderr, "fake_exporter: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  int sig = 0;
  sigwait(&set, &sig);
  http.Stop();
  return 0;
}
