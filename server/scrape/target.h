// Target: one endpoint a scrape pool scrapes — its labels after target relabelling,
// the labels service discovery gave it, its URL, and its health as the scrape loop
// last saw it (for /api/v1/targets).
//
// PopulateTargetLabels() turns a discovered target into a Target's labels with
// Prometheus 2.42's rules (scrape/target.go PopulateLabels): defaults for job,
// __scheme__, __metrics_path__, __scrape_interval__, __scrape_timeout__ and
// __param_*; relabel_configs; a default port from the scheme; __meta_* removed;
// instance defaulting to __address__.
//
// Thread-safety: labels and URL are immutable; health is guarded by a mutex, written
// by the scrape loop and read by API handlers concurrently.
#ifndef CAIRN_SERVER_SCRAPE_TARGET_H_
#define CAIRN_SERVER_SCRAPE_TARGET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/config/config.h"
#include "tsdb/model/labels.h"

namespace cairn::scrape {

enum class TargetHealth { kUnknown, kUp, kDown };
std::string_view TargetHealthName(TargetHealth h);  // "unknown", "up", "down"

class Target {
 public:
  // REQUIRES: `labels` came from PopulateTargetLabels (has __address__ etc.).
  Target(Labels labels, Labels discovered_labels, const config::ScrapeConfig& cfg);

  Target(const Target&) = delete;
  Target& operator=(const Target&) = delete;

  // All labels, including __address__, __scheme__, __metrics_path__, __param_*.
  const Labels& labels() const { return labels_; }
  // The labels attached to scraped samples and shown by the API: those not starting
  // with "__".
  const Labels& public_labels() const { return public_labels_; }
  const Labels& discovered_labels() const { return discovered_labels_; }
  const std::string& url() const { return url_; }
  // The URL with a loopback host replaced by this machine's host name.
  std::string GlobalUrl() const;
  absl::Duration interval() const { return interval_; }
  absl::Duration timeout() const { return timeout_; }
  // Identity of the target within its pool: labels and URL (stable across runs).
  uint64_t hash() const { return hash_; }

  struct Status {
    TargetHealth health = TargetHealth::kUnknown;
    std::string last_error;
    absl::Time last_scrape = absl::InfinitePast();  // InfinitePast: never scraped
    absl::Duration last_duration;
  };
  void Report(absl::Time start, absl::Duration duration, const absl::Status& error);
  Status status() const;

 private:
  const Labels labels_;
  const Labels public_labels_;
  const Labels discovered_labels_;
  const std::string url_;
  const absl::Duration interval_;
  const absl::Duration timeout_;
  const uint64_t hash_;

  mutable absl::Mutex mu_;
  Status status_ ABSL_GUARDED_BY(mu_);
};

// The outcome of populating one discovered target.
struct PopulatedTarget {
  Labels labels;      // empty when dropped by relabelling
  Labels discovered;  // before relabelling
  bool dropped = false;
};

// `discovered` holds __address__ and the group's labels (and any __meta_*).
// kInvalidArgument for a target relabelling leaves without a usable address or with
// bad interval/timeout labels.
absl::StatusOr<PopulatedTarget> PopulateTargetLabels(const Labels& discovered,
                                                     const config::ScrapeConfig& cfg);

// The discovered label sets of a static or file_sd group: one per target, with
// __address__ set and the group labels added.
std::vector<Labels> GroupTargets(const config::StaticConfig& group);

}  // namespace cairn::scrape

#endif  // CAIRN_SERVER_SCRAPE_TARGET_H_
