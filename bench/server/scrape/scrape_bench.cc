// Scrape hot path.
//
// BM_ParseText / BM_ParseOpenMetrics: parser throughput on a node_exporter-sized
// page (~2,000 series with HELP/TYPE lines and node_exporter's label shapes, ~150 KB),
// bytes_per_second and items_per_second (= series per second).
//
// BM_ScrapeOnce: one whole scrape of that page after the first (steady state: every
// series is in the loop's cache) — parse, cache lookup, append, staleness tracking,
// report series — into an Appender that discards, so the figure is the scrape loop's
// own cost per sample. items_per_second = samples per second.
//
// BM_ScrapeOnceDb: the same into a real DB (head + WAL in a temp dir).
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "benchmark/benchmark.h"
#include "server/scrape/scrape_loop.h"
#include "server/scrape/text_parser.h"
#include "tsdb/db.h"

namespace cairn::scrape {
namespace {

const bool kNoDeadlockDetection = [] {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return true;
}();

// A page shaped like node_exporter 1.5's: per-CPU mode counters, per-device disk and
// network counters, filesystem gauges, a histogram, Go runtime metrics.
std::string NodeExporterLikePage(bool open_metrics) {
  std::string p;
  auto family = [&](const std::string& name, const char* type, const char* help) {
    absl::StrAppend(&p, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
  };
  const char* modes[] = {"idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"};
  family("node_cpu_seconds_total", "counter", "Seconds the CPUs spent in each mode.");
  for (int cpu = 0; cpu < 32; ++cpu) {
    for (const char* m : modes) {
      absl::StrAppend(&p, "node_cpu_seconds_total{cpu=\"", cpu, "\",mode=\"", m, "\"} ",
                      123456.78 + cpu * 17.5, "\n");
    }
  }
  const char* disk_metrics[] = {
      "node_disk_read_bytes_total",         "node_disk_written_bytes_total",
      "node_disk_reads_completed_total",    "node_disk_writes_completed_total",
      "node_disk_io_time_seconds_total",    "node_disk_read_time_seconds_total",
      "node_disk_write_time_seconds_total", "node_disk_io_now"};
  for (const char* m : disk_metrics) {
    family(m, "counter", "Disk statistic from /proc/diskstats.");
    for (int d = 0; d < 16; ++d) {
      absl::StrAppend(&p, m, "{device=\"nvme", d / 4, "n1p", d % 4, "\"} ", 9.87654321e10 + d,
                      "\n");
    }
  }
  const char* net_metrics[] = {
      "node_network_receive_bytes_total",   "node_network_transmit_bytes_total",
      "node_network_receive_packets_total", "node_network_transmit_packets_total",
      "node_network_receive_errs_total",    "node_network_transmit_errs_total",
      "node_network_receive_drop_total",    "node_network_transmit_drop_total"};
  for (const char* m : net_metrics) {
    family(m, "counter", "Network device statistic.");
    for (int d = 0; d < 24; ++d) {
      absl::StrAppend(&p, m, "{device=\"veth", 1000 + d * 37, "\"} ", 4.2e9 + d * 3, "\n");
    }
  }
  const char* fs_metrics[] = {"node_filesystem_avail_bytes", "node_filesystem_size_bytes",
                              "node_filesystem_free_bytes",  "node_filesystem_files",
                              "node_filesystem_files_free",  "node_filesystem_readonly"};
  for (const char* m : fs_metrics) {
    family(m, "gauge", "Filesystem statistic.");
    for (int d = 0; d < 30; ++d) {
      absl::StrAppend(&p, m, "{device=\"/dev/mapper/vg-lv", d,
                      "\",fstype=\"ext4\",mountpoint=\"/srv/data/", d, "\"} ", 1.073741824e11,
                      "\n");
    }
  }
  family("node_schedstat_running_seconds_total", "counter", "Seconds spent running.");
  for (int cpu = 0; cpu < 32; ++cpu) {
    absl::StrAppend(&p, "node_schedstat_running_seconds_total{cpu=\"", cpu, "\"} ", 5.5e5, "\n");
  }
  family("go_gc_duration_seconds", "summary", "A summary of the pause duration of GC cycles.");
  for (const char* q : {"0", "0.25", "0.5", "0.75", "1"}) {
    absl::StrAppend(&p, "go_gc_duration_seconds{quantile=\"", q, "\"} 2.9e-05\n");
  }
  absl::StrAppend(&p, "go_gc_duration_seconds_sum 0.5\ngo_gc_duration_seconds_count 1234\n");
  family("node_http_request_duration_seconds", "histogram", "Request latencies.");
  for (int h = 0; h < 20; ++h) {
    for (const char* le : {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "+Inf"}) {
      absl::StrAppend(&p, "node_http_request_duration_seconds_bucket{handler=\"/h", h, "\",le=\"",
                      le, "\"} ", 1000 + h, "\n");
    }
    absl::StrAppend(&p, "node_http_request_duration_seconds_sum{handler=\"/h", h, "\"} 12.5\n");
    absl::StrAppend(&p, "node_http_request_duration_seconds_count{handler=\"/h", h, "\"} 1020\n");
  }
  for (int i = 0; i < 300; ++i) {
    std::string name = absl::StrCat("node_misc_metric_", i);
    family(name, "gauge", "Miscellaneous gauge.");
    absl::StrAppend(&p, name, " ", i * 1.5, "\n");
  }
  if (open_metrics) absl::StrAppend(&p, "# EOF\n");
  return p;
}

size_t CountSeries(const std::string& page, ExpositionFormat f) {
  TextParser parser(page, f);
  size_t n = 0;
  while (parser.Next()) n += parser.entry() == TextParser::Entry::kSeries ? 1 : 0;
  return n;
}

void Parse(benchmark::State& state, ExpositionFormat f) {
  const std::string page = NodeExporterLikePage(f == ExpositionFormat::kOpenMetrics);
  const size_t series = CountSeries(page, f);
  double sum = 0;
  for (auto _ : state) {
    TextParser parser(page, f);
    while (parser.Next()) {
      if (parser.entry() == TextParser::Entry::kSeries) sum += parser.value();
    }
    if (!parser.status().ok()) state.SkipWithError("parse error");
  }
  benchmark::DoNotOptimize(sum);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * page.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * series));
  state.counters["page_bytes"] = static_cast<double>(page.size());
  state.counters["series"] = static_cast<double>(series);
}

void BM_ParseText(benchmark::State& state) { Parse(state, ExpositionFormat::kPrometheusText); }
void BM_ParseOpenMetrics(benchmark::State& state) { Parse(state, ExpositionFormat::kOpenMetrics); }
BENCHMARK(BM_ParseText);
BENCHMARK(BM_ParseOpenMetrics);

class DiscardStorage : public storage::Appendable {
  class App : public storage::Appender {
   public:
    absl::StatusOr<storage::SeriesRef> Append(storage::SeriesRef ref, const Labels&, int64_t,
                                              double) override {
      return ref == 0 ? ++next_ : ref;
    }
    absl::Status Commit() override { return absl::OkStatus(); }
    void Rollback() override {}

   private:
    storage::SeriesRef next_ = 0;
  };

 public:
  std::unique_ptr<storage::Appender> NewAppender() override { return std::make_unique<App>(); }
};

class PageFetcher : public Fetcher {
 public:
  explicit PageFetcher(std::string page) : page_(std::move(page)) {}
  absl::Status Fetch(std::string* body, std::string* content_type) override {
    body->assign(page_);
    *content_type = "text/plain; version=0.0.4";
    return absl::OkStatus();
  }

 private:
  std::string page_;
};

void RunScrapes(benchmark::State& state, storage::Appendable* storage) {
  const std::string page = NodeExporterLikePage(false);
  const size_t series = CountSeries(page, ExpositionFormat::kPrometheusText);
  config::ScrapeConfig cfg;
  cfg.job_name = "node";
  cfg.scrape_interval = absl::Seconds(15);
  cfg.scrape_timeout = absl::Seconds(10);
  auto shared_cfg = std::make_shared<const config::ScrapeConfig>(cfg);
  auto populated = PopulateTargetLabels({{"__address__", "host-1:9100"}}, cfg);
  auto target = std::make_shared<Target>(populated->labels, populated->discovered, cfg);
  ScrapeLoop loop(storage, target, shared_cfg, std::make_unique<PageFetcher>(page));
  absl::Time t = absl::FromUnixSeconds(1700000000);
  loop.ScrapeOnce(t);  // fills the cache
  for (auto _ : state) {
    t += absl::Seconds(15);
    ScrapeStats st = loop.ScrapeOnce(t);
    if (!st.error.ok()) state.SkipWithError("scrape failed");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * series));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * page.size()));
}

void BM_ScrapeOnce(benchmark::State& state) {
  DiscardStorage storage;
  RunScrapes(state, &storage);
}
BENCHMARK(BM_ScrapeOnce);

void BM_ScrapeOnceDb(benchmark::State& state) {
  std::string dir = absl::StrCat("/tmp/cairn_scrape_bench_", getpid());
  DbOptions opts;
  opts.background = false;
  auto db = DB::Open(dir, opts);
  if (!db.ok()) {
    state.SkipWithError("db open failed");
    return;
  }
  RunScrapes(state, db->get());
  (*db)->Close().IgnoreError();
  db->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ScrapeOnceDb);

}  // namespace
}  // namespace cairn::scrape
