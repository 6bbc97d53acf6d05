#include "tools/import_command.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <set>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/config/config.h"
#include "server/scrape/text_parser.h"
#include "tsdb/block/block_writer.h"
#include "tsdb/block/ulid.h"
#include "tsdb/model/labels.h"
#include "tsdb/model/sample.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::tools {
namespace {

// Prometheus' chunk size (tsdb: samplesPerChunk), which promtool's blocks also use.
constexpr size_t kSamplesPerChunk = 120;

// RFC 3339 with "Z", fractional seconds only when present.
constexpr char kRfc3339Utc[] = "%Y-%m-%dT%H:%M:%E*SZ";

struct SeriesSamples {
  Labels labels;
  std::vector<Sample> samples;
};

scrape::ExpositionFormat DetectFormat(std::string_view content) {
  size_t end = content.find_last_not_of(" \t\r\n");
  std::string_view trimmed = end == std::string_view::npos ? "" : content.substr(0, end + 1);
  constexpr std::string_view kEof = "# EOF";
  bool om = trimmed.size() >= kEof.size() && trimmed.substr(trimmed.size() - kEof.size()) == kEof &&
            (trimmed.size() == kEof.size() || trimmed[trimmed.size() - kEof.size() - 1] == '\n');
  return om ? scrape::ExpositionFormat::kOpenMetrics : scrape::ExpositionFormat::kPrometheusText;
}

// The text of 1-based line `n`, cut to 200 bytes, for messages.
std::string_view LineText(std::string_view content, int n) {
  size_t pos = 0;
  for (int i = 1; i < n && pos != std::string_view::npos; ++i) {
    pos = content.find('\n', pos);
    if (pos != std::string_view::npos) ++pos;
  }
  if (pos == std::string_view::npos || pos > content.size()) return "";
  std::string_view line = content.substr(pos);
  line = line.substr(0, line.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line.substr(0, 200);
}

Labels BuildLabels(const scrape::TextParser& p, LabelsBuilder* b) {
  b->Clear();
  b->Set(kMetricNameLabel, p.metric_name());
  for (const auto& [name, value] : p.labels()) b->Set(name, value);
  return b->Build();
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

std::string FormatValue(double v) { return absl::StrFormat("%.17g", v); }

// Error path only: parses the file again to find the lines holding `labels` at `t`,
// so that a conflict can be reported by line without keeping a line number per
// sample in memory.
std::vector<int> FindLines(std::string_view content, scrape::ExpositionFormat format,
                           const Labels& labels, int64_t t) {
  std::vector<int> lines;
  scrape::TextParser p(content, format);
  LabelsBuilder b;
  while (p.Next()) {
    if (p.entry() != scrape::TextParser::Entry::kSeries || !p.has_timestamp() ||
        p.timestamp_ms() != t || p.metric_name() != labels.MetricName()) {
      continue;
    }
    if (BuildLabels(p, &b) == labels) lines.push_back(p.line_number());
  }
  return lines;
}

// Sorts each series by time and drops exact duplicates; a timestamp with two
// different values is an error naming the series and the lines.
absl::Status SortSeries(std::string_view content, scrape::ExpositionFormat format,
                        std::vector<SeriesSamples>* series) {
  for (SeriesSamples& s : *series) {
    std::vector<Sample>& v = s.samples;
    if (!std::is_sorted(v.begin(), v.end(),
                        [](const Sample& a, const Sample& b) { return a.t < b.t; })) {
      std::stable_sort(v.begin(), v.end(),
                       [](const Sample& a, const Sample& b) { return a.t < b.t; });
    }
    size_t out = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      if (out > 0 && v[out - 1].t == v[i].t) {
        if (v[out - 1] == v[i]) continue;  // bit-identical: a harmless repeat
        std::vector<int> lines = FindLines(content, format, s.labels, v[i].t);
        std::string where =
            lines.size() >= 2 ? absl::StrFormat("line %d: ", lines[1]) : std::string();
        std::string first =
            lines.empty() ? std::string() : absl::StrFormat(" (first at line %d)", lines[0]);
        return absl::InvalidArgumentError(absl::StrFormat(
            "%sconflicting samples for series %s at timestamp %d: %s and %s%s", where,
            s.labels.ToString(), v[i].t, FormatValue(v[out - 1].v), FormatValue(v[i].v), first));
      }
      v[out++] = v[i];
    }
    v.resize(out);
    v.shrink_to_fit();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<SeriesSamples>> ParseFile(std::string_view content,
                                                     scrape::ExpositionFormat format) {
  std::vector<SeriesSamples> series;
  // The raw "name{labels}" text finds a known series without building its labels;
  // differently spelt identical series meet again in by_labels.
  absl::flat_hash_map<std::string, uint32_t> by_raw;
  absl::flat_hash_map<Labels, uint32_t> by_labels;
  scrape::TextParser p(content, format);
  LabelsBuilder b;
  while (p.Next()) {
    if (p.entry() != scrape::TextParser::Entry::kSeries) continue;
    if (!p.has_timestamp()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("line %d: sample without a timestamp (import needs one on every "
                          "sample): \"%s\"",
                          p.line_number(), LineText(content, p.line_number())));
    }
    uint32_t idx;
    auto raw = by_raw.find(Sv(p.series()));
    if (raw != by_raw.end()) {
      idx = raw->second;
    } else {
      Labels ls = BuildLabels(p, &b);
      auto [it, inserted] = by_labels.try_emplace(ls, static_cast<uint32_t>(series.size()));
      if (inserted) series.push_back(SeriesSamples{std::move(ls), {}});
      idx = it->second;
      by_raw.emplace(std::string(p.series()), idx);
    }
    series[idx].samples.push_back(Sample{p.timestamp_ms(), p.value()});
  }
  if (!p.status().ok()) return p.status();
  return series;
}

absl::StatusOr<ImportedBlock> WriteBlock(io::FileSystem* fs, const std::string& data_dir,
                                         const ImportOptions& options, int64_t range_end,
                                         const std::vector<SeriesSamples>& series,
                                         std::vector<size_t>* cursors) {
  ImportedBlock out;
  out.ulid = block::NewUlid(absl::ToUnixMillis(absl::Now()));
  const std::string tmp = absl::StrFormat("%s/%s.tmp-for-creation", data_dir, out.ulid);
  block::BlockWriterOptions wopts;
  wopts.packed_chunks = !options.prometheus_compatible_blocks;
  auto writer = block::BlockWriter::Create(fs, tmp, wopts);
  if (!writer.ok()) return writer.status();
  out.min_time = kMaxTimeMs;
  out.max_time = kMinTimeMs;
  std::vector<std::vector<Sample>> chunks;
  absl::Status st;
  for (size_t i = 0; i < series.size() && st.ok(); ++i) {
    const std::vector<Sample>& v = series[i].samples;
    size_t& pos = (*cursors)[i];
    size_t end = pos;
    while (end < v.size() && v[end].t < range_end) ++end;
    if (end == pos) continue;
    chunks.clear();
    for (size_t c = pos; c < end; c += kSamplesPerChunk) {
      chunks.emplace_back(v.begin() + c, v.begin() + std::min(end, c + kSamplesPerChunk));
    }
    out.min_time = std::min(out.min_time, v[pos].t);
    out.max_time = std::max(out.max_time, v[end - 1].t + 1);
    out.num_chunks += chunks.size();
    pos = end;
    st = (*writer)->AddSeriesSamples(series[i].labels, chunks);
  }
  if (st.ok()) {
    out.num_series = (*writer)->num_series();
    out.num_samples = (*writer)->num_samples();
    block::BlockMeta meta;
    meta.ulid = out.ulid;
    meta.min_time = out.min_time;
    meta.max_time = out.max_time;
    meta.level = 1;
    meta.sources = {out.ulid};
    st = (*writer)->Finish(meta);
  }
  writer->reset();
  if (st.ok()) st = block::CommitBlockDir(fs, tmp, absl::StrFormat("%s/%s", data_dir, out.ulid));
  if (!st.ok()) {
    fs->RemoveAll(tmp).IgnoreError();
    return absl::Status(st.code(), absl::StrFormat("writing block %s for [%d, %d): %s", out.ulid,
                                                   out.min_time, out.max_time, st.message()));
  }
  return out;
}

int Usage() {
  std::fprintf(stderr,
               "usage: cairnctl import [--block-duration=2h] [--prometheus-compatible-blocks] "
               "FILE DATA_DIR\n");
  return 2;
}

}  // namespace

absl::StatusOr<std::vector<ImportedBlock>> ImportText(io::FileSystem* fs, std::string_view content,
                                                      const std::string& data_dir,
                                                      const ImportOptions& options) {
  if (options.block_duration_ms <= 0) {
    return absl::InvalidArgumentError("block duration must be positive");
  }
  const scrape::ExpositionFormat format = DetectFormat(content);
  absl::StatusOr<std::vector<SeriesSamples>> series = ParseFile(content, format);
  if (!series.ok()) return series.status();
  if (series->empty()) return absl::InvalidArgumentError("no samples in the file");
  if (absl::Status s = SortSeries(content, format, &*series); !s.ok()) return s;
  // BlockWriter takes series in label order.
  std::sort(series->begin(), series->end(),
            [](const SeriesSamples& a, const SeriesSamples& b) { return a.labels < b.labels; });

  const int64_t d = options.block_duration_ms;
  std::set<int64_t> ranges;  // aligned range starts holding data
  for (const SeriesSamples& s : *series) {
    int64_t last = kMinTimeMs;
    for (const Sample& x : s.samples) {
      int64_t r = FloorDiv(x.t, d) * d;
      if (r != last) ranges.insert(last = r);
    }
  }
  if (absl::Status s = fs->CreateDirs(data_dir); !s.ok()) return s;
  std::vector<size_t> cursors(series->size(), 0);
  std::vector<ImportedBlock> blocks;
  for (int64_t start : ranges) {
    // The last range may end past int64: clamp so that `t < range_end` still holds.
    int64_t range_end = start > kMaxTimeMs - d ? kMaxTimeMs : start + d;
    auto b = WriteBlock(fs, data_dir, options, range_end, *series, &cursors);
    if (!b.ok()) return b.status();
    blocks.push_back(std::move(*b));
  }
  return blocks;
}

int ImportCommand(int argc, char** argv, int first) {
  ImportOptions options;
  std::vector<std::string> args;
  for (int i = first; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.substr(0, 2) != "--") {
      args.emplace_back(a);
      continue;
    }
    a.remove_prefix(2);
    size_t eq = a.find('=');
    std::string_view key = a.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : a.substr(eq + 1);
    if (key == "block-duration") {
      auto dur = config::ParsePromDuration(value);
      if (!dur.ok() || *dur <= absl::ZeroDuration()) {
        std::fprintf(stderr, "cairnctl import: --block-duration: not a positive duration: %s\n",
                     std::string(value).c_str());
        return 2;
      }
      options.block_duration_ms = absl::ToInt64Milliseconds(*dur);
    } else if (key == "prometheus-compatible-blocks" && eq == std::string_view::npos) {
      options.prometheus_compatible_blocks = true;
    } else {
      std::fprintf(stderr, "cairnctl import: unknown flag --%s\n", std::string(a).c_str());
      return Usage();
    }
  }
  if (args.size() != 2) return Usage();
  io::FileSystem* fs = io::FileSystem::Default();
  const std::string& file = args[0];
  const std::string& data_dir = args[1];
  auto size = fs->FileSize(file);
  if (!size.ok()) {
    std::fprintf(stderr, "cairnctl import: %s\n", size.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<io::MappedFile> mapped;
  std::string_view content;
  if (*size > 0) {
    auto m = fs->MapFile(file);
    if (!m.ok()) {
      std::fprintf(stderr, "cairnctl import: %s\n", m.status().ToString().c_str());
      return 1;
    }
    mapped = std::move(*m);
    content = mapped->data();
  }
  auto blocks = ImportText(fs, content, data_dir, options);
  if (!blocks.ok()) {
    std::fprintf(stderr, "cairnctl import: %s: %s\n", file.c_str(),
                 std::string(blocks.status().message()).c_str());
    return 1;
  }
  uint64_t samples = 0;
  for (const ImportedBlock& b : *blocks) {
    samples += b.num_samples;
    std::printf("block %s: [%lld, %lld) %s .. %s series=%llu samples=%llu chunks=%llu\n",
                b.ulid.c_str(), static_cast<long long>(b.min_time),
                static_cast<long long>(b.max_time),
                absl::FormatTime(kRfc3339Utc, absl::FromUnixMillis(b.min_time), absl::UTCTimeZone())
                    .c_str(),
                absl::FormatTime(kRfc3339Utc, absl::FromUnixMillis(b.max_time), absl::UTCTimeZone())
                    .c_str(),
                static_cast<unsigned long long>(b.num_series),
                static_cast<unsigned long long>(b.num_samples),
                static_cast<unsigned long long>(b.num_chunks));
  }
  std::printf("imported %llu samples into %zu blocks in %s\n",
              static_cast<unsigned long long>(samples), blocks->size(), data_dir.c_str());
  return 0;
}

}  // namespace cairn::tools
