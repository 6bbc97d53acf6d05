// ScrapeLoop: scrapes one target every interval and writes what it gets into
// storage, with Prometheus 2.42's semantics (scrape/scrape.go):
//
//  - The first scrape is offset inside the interval by a hash of the target, so a
//    pool's targets spread over the interval; later ones follow at fixed intervals
//    (a scrape that overruns skips the missed ticks, counted in missed_scrapes()).
//  - Samples get the scrape's start time, or the exposed timestamp with
//    honor_timestamps; the target's labels (exposed clashes renamed exported_<name>,
//    or with honor_labels the exposed ones win); metric_relabel_configs; label_limit
//    and sample_limit (over the limit the whole scrape fails).
//  - Report series per scrape: up, scrape_duration_seconds, scrape_samples_scraped,
//    scrape_samples_post_metric_relabeling, scrape_series_added.
//  - Stale markers (StaleNaN) for series that vanish from the page, for every series
//    when a scrape fails, and for every series plus the report series when the loop
//    is stopped for good (target gone).
//
// A cache keyed by the raw series text of the page (ScrapeCache) maps each exposed
// series to its final labels and storage ref, so a steady page costs one cache
// lookup per sample and no label parsing.
//
// Once started, the loop's scrapes are run by a ScrapeScheduler (shared by every
// loop of a ScrapeManager): the loop is a ScheduledScrape whose fetch runs on the
// scheduler's event thread and whose ingestion runs on one of its workers.
//
// Thread-safety: Start()/RequestStop()/Stop() from one thread (the pool's).
// ScrapeOnce() is for tests and benchmarks that drive a loop without starting it.
// The scrape state (cache, series lists, buffers) is touched by one scrape at a
// time, handed between scheduler threads with happens-before.
#ifndef CAIRN_SERVER_SCRAPE_SCRAPE_LOOP_H_
#define CAIRN_SERVER_SCRAPE_SCRAPE_LOOP_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/config/config.h"
#include "server/scrape/http_fetcher.h"
#include "server/scrape/scrape_cache.h"
#include "server/scrape/scrape_scheduler.h"
#include "server/scrape/target.h"
#include "server/scrape/text_parser.h"
#include "tsdb/storage/appender.h"

namespace cairn::scrape {

// What one scrape produced (also what the report series carry).
struct ScrapeStats {
  absl::Status error;
  uint64_t samples_scraped = 0;
  uint64_t samples_post_relabel = 0;
  uint64_t series_added = 0;
  uint64_t samples_rejected = 0;  // refused by storage (out of order, duplicate, ...)
  uint64_t stale_markers = 0;
  absl::Duration duration;
};

class ScrapeLoop final : public ScheduledScrape {
 public:
  // `storage`, `target` and `cfg` must outlive the loop. With no `fetcher` an
  // HttpFetcher for the target's URL is used.
  ScrapeLoop(storage::Appendable* storage, std::shared_ptr<Target> target,
             std::shared_ptr<const config::ScrapeConfig> cfg,
             std::unique_ptr<Fetcher> fetcher = nullptr);
  ~ScrapeLoop() override;
  ScrapeLoop(const ScrapeLoop&) = delete;
  ScrapeLoop& operator=(const ScrapeLoop&) = delete;

  // Schedules the loop's scrapes on `scheduler` (which must outlive the loop's
  // Stop()): the first one after InitialDelay(), then one every interval.
  // `offset_seed` is mixed into the offset hash.
  void Start(ScrapeScheduler* scheduler, uint64_t offset_seed = 0);
  // Unschedules the loop and aborts an in-flight fetch; returns at once. Lets a
  // pool stop many loops in parallel before Stop()ping each.
  void RequestStop();
  // Unschedules the loop and waits until no scrape of it runs (an in-flight fetch
  // is aborted). With `mark_stale`, writes stale markers for every series this loop
  // wrote last and for its report series.
  void Stop(bool mark_stale);

  // Runs one scrape (synchronous fetch) that started at `start` and reports it to
  // the target.
  ScrapeStats ScrapeOnce(absl::Time start);
  // Writes stale markers for the last scrape's series and the report series at `t`.
  void MarkAllStale(absl::Time t);

  // The delay from `now` to this target's first scrape (hash-based offset).
  absl::Duration InitialDelay(absl::Time now, uint64_t offset_seed) const;

  const std::shared_ptr<Target>& target() const { return target_; }
  uint64_t missed_scrapes() const { return missed_.load(std::memory_order_relaxed); }
  uint64_t scrapes() const { return scrapes_.load(std::memory_order_relaxed); }

 private:
  // The loop's appender, reused by every scrape (an appender may take a new batch
  // after Commit or Rollback), so its buffers are not reallocated per scrape.
  storage::Appender* appender();
  using CacheEntry = ScrapeCache::Entry;

  // ScheduledScrape, for the scheduler.
  absl::StatusOr<void*> BeginFetch() override;
  absl::Status EndFetch(int curl_result) override;
  absl::Status FetchSync() override;
  void Complete(absl::Time start, absl::Status fetch_status) override;
  void Missed(uint64_t ticks) override { missed_.fetch_add(ticks, std::memory_order_relaxed); }

  // Everything after the fetch: parse, append, staleness, report series, commit.
  ScrapeStats Ingest(absl::Time start, absl::Status fetch_status);
  // Parses and appends the page. Fills stats; returns the first error.
  absl::Status AppendPage(storage::Appender* app, std::string_view page,
                          std::string_view content_type, int64_t t_ms, ScrapeStats* stats);
  void AppendReport(storage::Appender* app, int64_t t_ms, const ScrapeStats& stats, bool up);
  void AppendStaleReport(storage::Appender* app, int64_t t_ms);
  Labels SampleLabels(const Labels& exposed) const;

  storage::Appendable* const storage_;
  const std::shared_ptr<Target> target_;
  const std::shared_ptr<const config::ScrapeConfig> cfg_;
  std::unique_ptr<Fetcher> fetcher_;

  // Owned by whichever thread runs scrapes (the loop thread once started).
  ScrapeCache cache_;
  ExpositionFormat cache_format_ = ExpositionFormat::kPrometheusText;  // of the last page
  std::vector<CacheEntry*> prev_series_;  // tracked series of the last good scrape
  std::vector<CacheEntry*> cur_series_;
  uint64_t iteration_ = 0;
  size_t seen_this_scrape_ = 0;  // distinct cache entries the current page exposed
  std::string body_;
  std::string content_type_;
  std::vector<Labels> report_labels_;
  std::vector<storage::SeriesRef> report_refs_;
  int64_t last_t_ms_ = 0;
  std::unique_ptr<storage::Appender> appender_;

  ScrapeScheduler* scheduler_ = nullptr;  // set by Start() until Stop()
  std::atomic<uint64_t> missed_{0};
  std::atomic<uint64_t> scrapes_{0};
};

}  // namespace cairn::scrape

#endif  // CAIRN_SERVER_SCRAPE_SCRAPE_LOOP_H_
