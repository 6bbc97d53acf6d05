// Fetcher: gets one page of metrics from a target. HttpFetcher does it over HTTP(S)
// with libcurl the way Prometheus 2.42 does: its Accept header (OpenMetrics first,
// then the text format), gzip, the X-Prometheus-Scrape-Timeout-Seconds header, a
// total timeout, basic auth or an Authorization header (credentials files re-read
// on every scrape so rotated tokens work), TLS settings and the body size limit.
//
// A fetch runs either synchronously (Fetch) or as a transfer that a caller drives
// with a libcurl multi handle (BeginAsync, then EndAsync with the transfer's
// result): the ScrapeScheduler uses the latter so one thread runs every target's
// transfer. One HttpFetcher per scrape loop: it keeps its curl easy handle with its
// options set once, and the connection to the target is reused between scrapes (in
// the multi handle's connection cache when driven asynchronously).
//
// Not thread-safe, except Cancel().
#ifndef CAIRN_SERVER_SCRAPE_HTTP_FETCHER_H_
#define CAIRN_SERVER_SCRAPE_HTTP_FETCHER_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
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

  // Asynchronous fetching, for fetchers that support it. BeginAsync prepares a
  // transfer into *body and returns its libcurl easy handle (a CURL*), which the
  // caller runs (curl_multi_add_handle or curl_easy_perform); the transfer's
  // CURLcode then goes to EndAsync, which returns what Fetch would have. nullptr
  // means this fetcher only fetches synchronously; an error means the fetch failed
  // before it started (e.g. an unreadable credentials file). *body must stay alive
  // and untouched until EndAsync.
  virtual absl::StatusOr<void*> BeginAsync(std::string* /*body*/) { return nullptr; }
  virtual absl::Status EndAsync(int /*curl_result*/, std::string* /*content_type*/) {
    return absl::UnimplementedError("fetcher has no asynchronous mode");
  }

  // Aborts an in-flight synchronous Fetch and every later one (kCancelled).
  // Thread-safe.
  virtual void Cancel() {}
};

class HttpFetcher : public Fetcher {
 public:
  HttpFetcher(std::string url, absl::Duration timeout, const config::ScrapeConfig& cfg);
  ~HttpFetcher() override;
  HttpFetcher(const HttpFetcher&) = delete;
  HttpFetcher& operator=(const HttpFetcher&) = delete;

  absl::Status Fetch(std::string* body, std::string* content_type) override;
  absl::StatusOr<void*> BeginAsync(std::string* body) override;
  absl::Status EndAsync(int curl_result, std::string* content_type) override;
  void Cancel() override { cancelled_.store(true, std::memory_order_relaxed); }

 private:
  static int OnProgress(void* self, int64_t, int64_t, int64_t, int64_t);
  static size_t OnData(char* data, size_t size, size_t n, void* self);
  static size_t OnHeader(char* data, size_t size, size_t n, void* self);

  // Sets the options that stay the same for every scrape (once, at construction).
  void SetFixedOptions();
  // Resets the per-transfer state and sets what may change between scrapes (secrets
  // read from files).
  absl::Status Prepare(std::string* body);
  // The outcome of a transfer that ended with `rc`.
  absl::Status Finish(int rc, std::string* content_type);

  const std::string url_;
  const absl::Duration timeout_;
  const config::ScrapeConfig cfg_;
  void* curl_ = nullptr;  // CURL*
  // The handle's own DNS and connection caches (CURLSH*). Handles in one multi
  // handle otherwise share the multi's, and libcurl 7.88 walks every entry of both
  // on each transfer (DNS pruning; the connect-only check of
  // curl_multi_remove_handle): with 1000 targets those walks took 15% of the scrape
  // CPU (perf on bench/scrape_compare.sh).
  void* share_ = nullptr;
  // Request headers; rebuilt per scrape only when they carry a secret read from a
  // file. Owned (curl_slist*), must outlive the transfer.
  void* headers_ = nullptr;
  bool dynamic_headers_ = false;
  std::string password_;  // basic auth password as last set
  std::string* body_ = nullptr;
  std::string status_line_;
  std::string content_type_;
  bool over_limit_ = false;
  char errbuf_[256] = {};  // CURL_ERROR_SIZE
  std::atomic<bool> cancelled_{false};
};

// Initializes libcurl once per process; safe to call repeatedly from any thread.
void EnsureCurlInitialized();

}  // namespace cairn::scrape

#endif  // CAIRN_SERVER_SCRAPE_HTTP_FETCHER_H_
