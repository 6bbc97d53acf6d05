// Fetcher: gets one page of metrics from a target. HttpFetcher does it over HTTP(S)
// with libcurl the way Prometheus 2.42 does: its Accept header (OpenMetrics first,
// then the text format), gzip, the X-Prometheus-Scrape-Timeout-Seconds header, a
// total timeout, basic auth or an Authorization header (credentials files re-read
// on every scrape so rotated tokens work), TLS settings and the body size limit.
//
// One HttpFetcher per scrape loop: it keeps its curl handle, so the connection to
// the target is reused between scrapes. Not thread-safe.
#ifndef CAIRN_SERVER_SCRAPE_HTTP_FETCHER_H_
#define CAIRN_SERVER_SCRAPE_HTTP_FETCHER_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/config/config.h"

namespace cairn::scrape {

// The Accept header of Prometheus 2.42's scraper.
inline constexpr char kScrapeAcceptHeader[] =
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

class Fetcher {
 public:
  virtual ~Fetcher() = default;
  // Replaces *body with the (decompressed) page and *content_type with the
  // response's Content-Type. Errors: kUnavailable (connection, HTTP status),
  // kDeadlineExceeded (timeout), kResourceExhausted (body_size_limit).
  virtual absl::Status Fetch(std::string* body, std::string* content_type) = 0;
  // Aborts an in-flight Fetch and every later one (kCancelled). Thread-safe.
  virtual void Cancel() {}
};

class HttpFetcher : public Fetcher {
 public:
  HttpFetcher(std::string url, absl::Duration timeout, const config::ScrapeConfig& cfg);
  ~HttpFetcher() override;
  HttpFetcher(const HttpFetcher&) = delete;
  HttpFetcher& operator=(const HttpFetcher&) = delete;

  absl::Status Fetch(std::string* body, std::string* content_type) override;
  void Cancel() override { cancelled_.store(true, std::memory_order_relaxed); }

 private:
  static int OnProgress(void* self, int64_t, int64_t, int64_t, int64_t);
  static size_t OnData(char* data, size_t size, size_t n, void* self);
  static size_t OnHeader(char* data, size_t size, size_t n, void* self);

  const std::string url_;
  const absl::Duration timeout_;
  const config::ScrapeConfig cfg_;
  void* curl_ = nullptr;  // CURL*
  std::string* body_ = nullptr;
  std::string status_line_;
  std::string content_type_;
  bool over_limit_ = false;
  std::atomic<bool> cancelled_{false};
};

// Initializes libcurl once per process; safe to call repeatedly from any thread.
void EnsureCurlInitialized();

}  // namespace cairn::scrape

#endif  // CAIRN_SERVER_SCRAPE_HTTP_FETCHER_H_
