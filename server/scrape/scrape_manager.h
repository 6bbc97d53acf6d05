// ScrapeManager: runs the scrape pools of a configuration — one pool per scrape
// config (job), one ScrapeLoop per target, all scheduled by one ScrapeScheduler (a
// few threads for any number of targets) — and applies new configurations.
//
// Applying a config (startup, SIGHUP, POST /-/reload):
//  - a job whose scrape config is unchanged keeps its loops; only its target set is
//    re-synced, so unchanged targets keep scraping without a gap;
//  - a job whose config changed gets new loops for all its targets (the old ones stop
//    without stale markers, so continuing series show no gap);
//  - targets that disappear, and jobs removed from the config, get their loops
//    stopped with stale markers for all their series.
// Targets come from static_configs and file_sd_configs; file_sd files (globs,
// relative to the config file's directory) are re-read every refresh_interval.
//
// Thread-safety: every method may be called from any thread; ApplyConfig, the file
// SD refresh and Stop are serialized by the manager's mutex.
#ifndef CAIRN_SERVER_SCRAPE_SCRAPE_MANAGER_H_
#define CAIRN_SERVER_SCRAPE_SCRAPE_MANAGER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/config/config.h"
#include "server/scrape/http_fetcher.h"
#include "server/scrape/scrape_loop.h"
#include "server/scrape/scrape_scheduler.h"
#include "server/scrape/target.h"
#include "tsdb/storage/appender.h"

namespace cairn::scrape {

class ScrapeManager {
 public:
  struct Options {
    // Mixed into every target's offset hash (Prometheus' jitter seed).
    uint64_t offset_seed = 0;
    // Tests: makes the fetcher of each new loop (default: HttpFetcher).
    std::function<std::unique_ptr<Fetcher>(const Target&, const config::ScrapeConfig&)>
        fetcher_factory;
    // Tests: when false, loops are created but not started (drive them yourself).
    bool start_loops = true;
    // The scheduler's worker threads (0: one per hardware thread).
    size_t scrape_workers = 0;
  };

  // `storage` must outlive the manager.
  explicit ScrapeManager(storage::Appendable* storage);
  ScrapeManager(storage::Appendable* storage, Options options);
  ~ScrapeManager();
  ScrapeManager(const ScrapeManager&) = delete;
  ScrapeManager& operator=(const ScrapeManager&) = delete;

  // Makes `cfg` the running configuration (see the header comment). Problems with
  // single targets (bad relabelling result, unreadable file_sd file) do not fail the
  // config; they are kept in sd_errors().
  void ApplyConfig(const config::Config& cfg);
  // Stops every loop (no stale markers: the process is shutting down) and the file
  // SD refresh. Idempotent.
  void Stop();
  // Re-reads the file_sd files of every pool now (the refresh thread does this on
  // each pool's refresh_interval).
  void RefreshFileSd();

  struct ActiveTarget {
    std::string pool;
    std::shared_ptr<Target> target;
  };
  struct DroppedTarget {
    std::string pool;
    Labels discovered_labels;
  };
  // Sorted by pool, then target URL.
  std::vector<ActiveTarget> ActiveTargets() const;
  std::vector<DroppedTarget> DroppedTargets() const;
  // Discovery problems of the last sync, e.g. "job node: file t.json: ...".
  std::vector<std::string> sd_errors() const;
  // The loops of `pool` (tests).
  std::vector<ScrapeLoop*> LoopsForTesting(const std::string& pool) const;

 private:
  struct Pool {
    std::shared_ptr<const config::ScrapeConfig> cfg;
    std::string fingerprint;
    std::map<uint64_t, std::unique_ptr<ScrapeLoop>> loops;  // by Target::hash()
    std::vector<Labels> dropped;
    std::vector<std::string> errors;
    // The last good read of each file_sd file: a file that fails to read keeps its
    // targets, as in Prometheus.
    std::map<std::string, std::vector<Labels>> file_targets;
    absl::Time next_file_sd_refresh = absl::InfiniteFuture();
  };

  // Discovers the pool's targets and makes its loops match them.
  void SyncPool(const std::string& name, Pool* pool) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::vector<Labels> Discover(Pool* pool) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::unique_ptr<ScrapeLoop> NewLoop(std::shared_ptr<Target> target,
                                      const std::shared_ptr<const config::ScrapeConfig>& cfg);
  static void StopLoops(std::vector<std::unique_ptr<ScrapeLoop>> loops, bool mark_stale);
  void RefreshLoop();

  storage::Appendable* const storage_;
  const Options options_;
  // Runs every started loop; outlives them (loops are stopped in Stop()).
  std::unique_ptr<ScrapeScheduler> scheduler_;

  mutable absl::Mutex mu_;
  std::map<std::string, Pool> pools_ ABSL_GUARDED_BY(mu_);
  std::string config_dir_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::thread refresh_thread_;
};

// A string that differs whenever two scrape configs would scrape differently.
std::string ScrapeConfigFingerprint(const config::ScrapeConfig& cfg);

}  // namespace cairn::scrape

#endif  // CAIRN_SERVER_SCRAPE_SCRAPE_MANAGER_H_
