// MetricsRegistry: Cairn's own metrics, exposed at /metrics in the Prometheus text
// format 0.0.4. Counters, gauges and histograms with a fixed label schema per family;
// collectors add values read at scrape time (e.g. DB statistics).
//
//   MetricsRegistry reg;
//   auto* requests = reg.AddCounter("cairn_http_requests_total", "HTTP requests.",
//                                   {"handler", "code"});
//   requests->Inc({"/api/v1/query", "200"});
//   std::string page = reg.Render();
//
// Thread-safety: every method may be called concurrently. Families live as long as
// the registry; pointers returned by Add* stay valid.
#ifndef CAIRN_SERVER_METRICS_REGISTRY_H_
#define CAIRN_SERVER_METRICS_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace cairn::server {

class MetricFamily {
 public:
  enum class Kind { kCounter, kGauge, kHistogram };
  MetricFamily(std::string name, std::string help, Kind kind, std::vector<std::string> labels,
               std::vector<double> buckets = {});

  // Counter/gauge. REQUIRES: values.size() == label names' size.
  void Inc(const std::vector<std::string>& values, double delta = 1);
  void Set(const std::vector<std::string>& values, double v);
  // Histogram.
  void Observe(const std::vector<std::string>& values, double v);
  double Get(const std::vector<std::string>& values) const;

  void Render(std::string* out) const;

 private:
  struct Cell {
    double value = 0;                     // counter / gauge
    std::vector<uint64_t> bucket_counts;  // histogram, cumulative at render
    double sum = 0;
    uint64_t count = 0;
  };
  const std::string name_, help_;
  const Kind kind_;
  const std::vector<std::string> labels_;
  const std::vector<double> buckets_;
  mutable absl::Mutex mu_;
  std::map<std::vector<std::string>, Cell> cells_ ABSL_GUARDED_BY(mu_);
};

class MetricsRegistry {
 public:
  MetricFamily* AddCounter(std::string name, std::string help,
                           std::vector<std::string> labels = {});
  MetricFamily* AddGauge(std::string name, std::string help, std::vector<std::string> labels = {});
  MetricFamily* AddHistogram(std::string name, std::string help, std::vector<std::string> labels,
                             std::vector<double> buckets);
  // Runs before each Render() (e.g. to copy DB stats into gauges).
  void AddCollector(std::function<void()> collector);

  std::string Render() const;

  // Prometheus' default latency buckets (.005 ... 10 s).
  static std::vector<double> DefaultBuckets();

 private:
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<MetricFamily>> families_ ABSL_GUARDED_BY(mu_);
  std::vector<std::function<void()>> collectors_ ABSL_GUARDED_BY(mu_);
};

// Formats a float as Prometheus' text format does (shortest round trip, +Inf, -Inf, NaN).
std::string FormatMetricValue(double v);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_METRICS_REGISTRY_H_
