#include "server/metrics_registry.h"

#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace cairn::server {
namespace {

void AppendEscaped(std::string* out, const std::string& v) {
  for (char c : v) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '"') {
      out->append("\\\"");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

void AppendLabels(std::string* out, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, const char* extra_name = nullptr,
                  const std::string& extra_value = "") {
  if (names.empty() && extra_name == nullptr) return;
  out->push_back('{');
  bool first = true;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!first) out->push_back(',');
    first = false;
    absl::StrAppend(out, names[i], "=\"");
    AppendEscaped(out, values[i]);
    out->push_back('"');
  }
  if (extra_name != nullptr) {
    if (!first) out->push_back(',');
    absl::StrAppend(out, extra_name, "=\"", extra_value, "\"");
  }
  out->push_back('}');
}

}  // namespace

std::string FormatMetricValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

MetricFamily::MetricFamily(std::string name, std::string help, Kind kind,
                           std::vector<std::string> labels, std::vector<double> buckets)
    : name_(std::move(name)),
      help_(std::move(help)),
      kind_(kind),
      labels_(std::move(labels)),
      buckets_(std::move(buckets)) {}

void MetricFamily::Inc(const std::vector<std::string>& values, double delta) {
  absl::MutexLock l(&mu_);
  cells_[values].value += delta;
}

void MetricFamily::Set(const std::vector<std::string>& values, double v) {
  absl::MutexLock l(&mu_);
  cells_[values].value = v;
}

void MetricFamily::Observe(const std::vector<std::string>& values, double v) {
  absl::MutexLock l(&mu_);
  Cell& c = cells_[values];
  if (c.bucket_counts.empty()) c.bucket_counts.resize(buckets_.size());
  for (size_t i = 0; i < buckets_.size(); ++i) {
    if (v <= buckets_[i]) {
      ++c.bucket_counts[i];
      break;
    }
  }
  c.sum += v;
  ++c.count;
}

double MetricFamily::Get(const std::vector<std::string>& values) const {
  absl::MutexLock l(&mu_);
  auto it = cells_.find(values);
  if (it == cells_.end()) return 0;
  return kind_ == Kind::kHistogram ? static_cast<double>(it->second.count) : it->second.value;
}

void MetricFamily::Render(std::string* out) const {
  const char* type = kind_ == Kind::kCounter ? "counter"
                     : kind_ == Kind::kGauge ? "gauge"
                                             : "histogram";
  absl::StrAppend(out, "# HELP ", name_, " ", help_, "\n# TYPE ", name_, " ", type, "\n");
  absl::MutexLock l(&mu_);
  if (cells_.empty() && labels_.empty() && kind_ != Kind::kHistogram) {
    absl::StrAppend(out, name_, " 0\n");
    return;
  }
  for (const auto& [values, cell] : cells_) {
    if (kind_ != Kind::kHistogram) {
      out->append(name_);
      AppendLabels(out, labels_, values);
      absl::StrAppend(out, " ", FormatMetricValue(cell.value), "\n");
      continue;
    }
    uint64_t cumulative = 0;
    for (size_t i = 0; i < buckets_.size(); ++i) {
      cumulative += cell.bucket_counts.empty() ? 0 : cell.bucket_counts[i];
      absl::StrAppend(out, name_, "_bucket");
      AppendLabels(out, labels_, values, "le", FormatMetricValue(buckets_[i]));
      absl::StrAppend(out, " ", cumulative, "\n");
    }
    absl::StrAppend(out, name_, "_bucket");
    AppendLabels(out, labels_, values, "le", "+Inf");
    absl::StrAppend(out, " ", cell.count, "\n", name_, "_sum");
    AppendLabels(out, labels_, values);
    absl::StrAppend(out, " ", FormatMetricValue(cell.sum), "\n", name_, "_count");
    AppendLabels(out, labels_, values);
    absl::StrAppend(out, " ", cell.count, "\n");
  }
}

MetricFamily* MetricsRegistry::AddCounter(std::string name, std::string help,
                                          std::vector<std::string> labels) {
  absl::MutexLock l(&mu_);
  families_.push_back(std::make_unique<MetricFamily>(
      std::move(name), std::move(help), MetricFamily::Kind::kCounter, std::move(labels)));
  return families_.back().get();
}

MetricFamily* MetricsRegistry::AddGauge(std::string name, std::string help,
                                        std::vector<std::string> labels) {
  absl::MutexLock l(&mu_);
  families_.push_back(std::make_unique<MetricFamily>(
      std::move(name), std::move(help), MetricFamily::Kind::kGauge, std::move(labels)));
  return families_.back().get();
}

MetricFamily* MetricsRegistry::AddHistogram(std::string name, std::string help,
                                            std::vector<std::string> labels,
                                            std::vector<double> buckets) {
  absl::MutexLock l(&mu_);
  families_.push_back(std::make_unique<MetricFamily>(std::move(name), std::move(help),
                                                     MetricFamily::Kind::kHistogram,
                                                     std::move(labels), std::move(buckets)));
  return families_.back().get();
}

void MetricsRegistry::AddCollector(std::function<void()> collector) {
  absl::MutexLock l(&mu_);
  collectors_.push_back(std::move(collector));
}

std::string MetricsRegistry::Render() const {
  std::vector<std::function<void()>> collectors;
  {
    absl::MutexLock l(&mu_);
    collectors = collectors_;
  }
  for (const auto& c : collectors) c();
  std::string out;
  absl::MutexLock l(&mu_);
  for (const auto& f : families_) f->Render(&out);
  return out;
}

std::vector<double> MetricsRegistry::DefaultBuckets() {
  return {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
}

}  // namespace cairn::server
