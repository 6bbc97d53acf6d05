#include "server/scrape/scrape_loop.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/config/relabel.h"
#include "server/scrape/text_parser.h"
#include "tsdb/model/sample.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::scrape {
namespace {

constexpr std::string_view kReportNames[] = {
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
};
constexpr size_t kReportCount = std::size(kReportNames);

}  // namespace

ScrapeLoop::ScrapeLoop(storage::Appendable* storage, std::shared_ptr<Target> target,
                       std::shared_ptr<const config::ScrapeConfig> cfg,
                       std::unique_ptr<Fetcher> fetcher)
    : storage_(storage),
      target_(std::move(target)),
      cfg_(std::move(cfg)),
      fetcher_(std::move(fetcher)) {
  if (fetcher_ == nullptr) {
    fetcher_ = std::make_unique<HttpFetcher>(target_->url(), target_->timeout(), *cfg_);
  }
  for (std::string_view name : kReportNames) {
    LabelsBuilder b(target_->public_labels());
    b.Set(kMetricNameLabel, name);
    report_labels_.push_back(b.Build());
  }
  report_refs_.assign(kReportCount, 0);
}

ScrapeLoop::~ScrapeLoop() {
  if (scheduler_ != nullptr) Stop(/*mark_stale=*/false);
}

void ScrapeLoop::Start(ScrapeScheduler* scheduler, uint64_t offset_seed) {
  scheduler_ = scheduler;
  const absl::Time now = absl::Now();
  scheduler_->Add(this, now + InitialDelay(now, offset_seed), target_->interval());
}

void ScrapeLoop::RequestStop() {
  if (scheduler_ != nullptr) scheduler_->RequestRemove(this);
  fetcher_->Cancel();
}

void ScrapeLoop::Stop(bool mark_stale) {
  RequestStop();
  if (scheduler_ != nullptr) {
    scheduler_->WaitRemoved(this);
    scheduler_ = nullptr;
  }
  if (mark_stale) {
    // Strictly after the last scrape, so the marker is not refused as a duplicate.
    absl::Time t = std::max(absl::Now(), absl::FromUnixMillis(last_t_ms_ + 1));
    MarkAllStale(t);
  }
}

absl::Duration ScrapeLoop::InitialDelay(absl::Time now, uint64_t offset_seed) const {
  // Prometheus' Target.offset: the same phase in every interval for a given target.
  const int64_t interval = absl::ToInt64Nanoseconds(target_->interval());
  if (interval <= 0) return absl::ZeroDuration();
  const int64_t now_ns = absl::ToUnixNanos(now);
  const int64_t base = interval - now_ns % interval;
  const int64_t offset =
      static_cast<int64_t>((target_->hash() ^ offset_seed) % static_cast<uint64_t>(interval));
  int64_t next = base + offset;
  if (next > interval) next -= interval;
  return absl::Nanoseconds(next);
}

absl::StatusOr<void*> ScrapeLoop::BeginFetch() { return fetcher_->BeginAsync(&body_); }

absl::Status ScrapeLoop::EndFetch(int curl_result) {
  return fetcher_->EndAsync(curl_result, &content_type_);
}

absl::Status ScrapeLoop::FetchSync() { return fetcher_->Fetch(&body_, &content_type_); }

void ScrapeLoop::Complete(absl::Time start, absl::Status fetch_status) {
  Ingest(start, std::move(fetch_status));
}

Labels ScrapeLoop::SampleLabels(const Labels& exposed) const {
  const Labels& target = target_->public_labels();
  LabelsBuilder b(exposed);
  if (cfg_->honor_labels) {
    for (const Label& l : target) {
      if (exposed.Get(l.name).empty()) b.Set(l.name, l.value);
    }
    return b.Build();
  }
  std::vector<std::pair<std::string, std::string>> conflicts;
  for (const Label& l : target) {
    std::string_view existing = exposed.Get(l.name);
    if (!existing.empty()) conflicts.emplace_back(l.name, existing);
    b.Set(l.name, l.value);
  }
  if (conflicts.empty()) return b.Build();
  // Prometheus' resolveConflictingExposedLabels: shortest names first, each renamed
  // exported_<name> (repeatedly) until it clashes with nothing.
  std::stable_sort(conflicts.begin(), conflicts.end(),
                   [](const auto& a, const auto& c) { return a.first.size() < c.first.size(); });
  for (size_t i = 0; i < conflicts.size(); ++i) {
    std::string name = conflicts[i].first;
    while (true) {
      name = "exported_" + name;
      bool taken = exposed.Has(name) || target.Has(name);
      for (size_t j = 0; j < i && !taken; ++j) taken = conflicts[j].first == name;
      if (!taken) break;
    }
    conflicts[i].first = name;
  }
  for (const auto& [name, value] : conflicts) b.Set(name, value);
  return b.Build();
}

absl::Status ScrapeLoop::AppendPage(storage::Appender* app, std::string_view page,
                                    std::string_view content_type, int64_t t_ms,
                                    ScrapeStats* stats) {
  const ExpositionFormat format = FormatForContentType(content_type);
  TextParser parser(page, format);
  // Labels are parsed only for series not in the cache: equal bytes parse the same,
  // in the same format (a label set valid in the text format may not be in
  // OpenMetrics, so a page in another format than the cache's is parsed in full).
  parser.set_lazy_labels(cache_.empty() || format == cache_format_);
  cache_format_ = format;
  LabelsBuilder lb;
  const uint64_t sample_limit = cfg_->sample_limit;
  const uint64_t label_limit = cfg_->label_limit;
  const bool honor_timestamps = cfg_->honor_timestamps;
  while (parser.Next()) {
    if (parser.entry() != TextParser::Entry::kSeries) continue;
    ++stats->samples_scraped;
    bool is_new = false;
    CacheEntry* e = cache_.Find(parser.series());
    if (e == nullptr) {
      if (!parser.LoadLabels()) return parser.status();
      lb.Clear();
      lb.Set(kMetricNameLabel, parser.metric_name());
      for (const auto& [name, value] : parser.labels()) lb.Set(name, value);
      std::optional<Labels> relabelled =
          config::Process(SampleLabels(lb.Build()), cfg_->metric_relabel_configs);
      e = cache_.Insert(parser.series());
      e->dropped = !relabelled.has_value() || relabelled->empty();
      if (!e->dropped) e->labels = std::move(*relabelled);
      is_new = true;
    }
    const bool first_this_scrape = e->last_seen != iteration_;
    if (first_this_scrape) ++seen_this_scrape_;
    e->last_seen = iteration_;
    if (e->dropped) continue;
    if (label_limit > 0 && e->labels.size() > label_limit) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("label_limit exceeded (metric: %.50s, number of labels: %d, limit: %d)",
                          e->labels.MetricName(), e->labels.size(), label_limit));
    }
    ++stats->samples_post_relabel;
    if (sample_limit > 0 && stats->samples_post_relabel > sample_limit) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("sample limit exceeded (limit: %d)", sample_limit));
    }
    if (is_new) ++stats->series_added;
    const bool explicit_ts = honor_timestamps && parser.has_timestamp();
    const int64_t t = explicit_ts ? parser.timestamp_ms() : t_ms;
    absl::StatusOr<storage::SeriesRef> ref = app->Append(e->ref, e->labels, t, parser.value());
    if (ref.ok()) {
      e->ref = *ref;
    } else {
      ++stats->samples_rejected;
    }
    // Series with their own timestamps are not made stale by us, as in Prometheus:
    // their exposer decides when they end.
    e->tracked = !explicit_ts;
    if (!explicit_ts && first_this_scrape) cur_series_.push_back(e);
  }
  return parser.status();
}

void ScrapeLoop::AppendReport(storage::Appender* app, int64_t t_ms, const ScrapeStats& stats,
                              bool up) {
  const double values[kReportCount] = {
      up ? 1.0 : 0.0,
      absl::ToDoubleSeconds(stats.duration),
      static_cast<double>(stats.samples_scraped),
      static_cast<double>(stats.samples_post_relabel),
      static_cast<double>(stats.series_added),
  };
  for (size_t i = 0; i < kReportCount; ++i) {
    auto ref = app->Append(report_refs_[i], report_labels_[i], t_ms, values[i]);
    if (ref.ok()) report_refs_[i] = *ref;
  }
}

void ScrapeLoop::AppendStaleReport(storage::Appender* app, int64_t t_ms) {
  for (size_t i = 0; i < kReportCount; ++i) {
    auto ref = app->Append(report_refs_[i], report_labels_[i], t_ms, StaleNaN());
    if (ref.ok()) report_refs_[i] = *ref;
  }
}

ScrapeStats ScrapeLoop::ScrapeOnce(absl::Time start) { return Ingest(start, FetchSync()); }

ScrapeStats ScrapeLoop::Ingest(absl::Time start, absl::Status st) {
  ScrapeStats stats;
  const int64_t t_ms = absl::ToUnixMillis(start);
  ++iteration_;
  seen_this_scrape_ = 0;
  cur_series_.clear();
  if (absl::IsCancelled(st)) {
    // The loop is being stopped: this was no scrape of the target, record nothing.
    stats.error = st;
    return stats;
  }
  storage::Appender* app = appender();
  if (st.ok()) {
    cache_.BeginPage();
    st = AppendPage(app, body_, content_type_, t_ms, &stats);
    cache_.EndPage();
  }
  if (st.ok()) {
    for (CacheEntry* e : prev_series_) {
      if (e->last_seen == iteration_) continue;  // still exposed
      if (app->Append(e->ref, e->labels, t_ms, StaleNaN()).ok()) ++stats.stale_markers;
    }
    std::swap(prev_series_, cur_series_);
  } else {
    // A failed scrape ingests nothing and ends every series of the last good one,
    // as Prometheus does by appending an empty scrape.
    app->Rollback();
    for (CacheEntry* e : prev_series_) {
      if (app->Append(e->ref, e->labels, t_ms, StaleNaN()).ok()) ++stats.stale_markers;
    }
    prev_series_.clear();
  }
  cur_series_.clear();
  // Forget series not exposed in the last two scrapes; entries in prev_series_ were
  // seen in this one, so the pointers stay valid.
  if (cache_.size() > seen_this_scrape_) cache_.EraseSeenBefore(iteration_ - 1);
  stats.duration = absl::Now() - start;
  stats.error = st;
  AppendReport(app, t_ms, stats, st.ok());
  absl::Status commit = app->Commit();
  if (!commit.ok() && stats.error.ok()) {
    stats.error = absl::Status(commit.code(), absl::StrCat("commit: ", commit.message()));
  }
  last_t_ms_ = t_ms;
  target_->Report(start, stats.duration, stats.error);
  scrapes_.fetch_add(1, std::memory_order_relaxed);
  return stats;
}

storage::Appender* ScrapeLoop::appender() {
  if (appender_ == nullptr) {
    appender_ = storage_->NewAppender();
    // Scrapes are not acknowledged to anyone: their commits reach the OS (surviving a
    // crash of cairn) and are fsynced by the DB's maintenance tick, as Prometheus
    // does, instead of paying an fsync per scrape.
    appender_->SetCommitDurability(storage::CommitDurability::kOsBuffer);
  }
  return appender_.get();
}

void ScrapeLoop::MarkAllStale(absl::Time t) {
  const int64_t t_ms = absl::ToUnixMillis(t);
  storage::Appender* app = appender();
  for (CacheEntry* e : prev_series_) app->Append(e->ref, e->labels, t_ms, StaleNaN()).IgnoreError();
  prev_series_.clear();
  AppendStaleReport(app, t_ms);
  app->Commit().IgnoreError();
}

}  // namespace cairn::scrape
