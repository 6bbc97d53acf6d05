#include "tsdb/compact/series_compactor.h"

#include <map>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/tsdb/storage/list_series.h"
#include "tsdb/compact/deleted_series_set.h"

namespace cairn::compact {
namespace {

using storage::testing::ListSeries;
using storage::testing::ListSeriesSet;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Records what the compactor hands to the block writer.
class RecordingSink final : public CompactionSink {
 public:
  absl::Status AddSeries(const Labels& labels,
                         absl::Span<const std::vector<Sample>> chunks) override {
    if (!order.empty() && !(order.back() < labels)) {
      return absl::InternalError("series out of order: " + labels.ToString());
    }
    order.push_back(labels);
    auto& dst = samples[labels.ToString()];
    for (const auto& c : chunks) {
      chunk_sizes.push_back(c.size());
      dst.insert(dst.end(), c.begin(), c.end());
    }
    return fail_after-- == 0 ? absl::ResourceExhaustedError("disk full") : absl::OkStatus();
  }

  std::vector<Labels> order;
  std::map<std::string, std::vector<Sample>> samples;
  std::vector<size_t> chunk_sizes;
  int fail_after = -1;
};

Labels Series(int i) { return Labels{{"__name__", "m"}, {"i", std::to_string(1000 + i)}}; }

std::vector<Sample> Gen(int64_t from, int64_t to, int64_t step, double base) {
  std::vector<Sample> out;
  for (int64_t t = from; t < to; t += step) out.push_back({t, base + static_cast<double>(t)});
  return out;
}

// One "block": series [first, first + n) with samples in [mint, maxt).
std::unique_ptr<storage::SeriesSet> Block(int first, int n, int64_t mint, int64_t maxt,
                                          double base = 0) {
  std::vector<ListSeries> series;
  for (int i = first; i < first + n; ++i)
    series.emplace_back(Series(i), Gen(mint, maxt, 15, base + i));
  return std::make_unique<ListSeriesSet>(std::move(series));
}

TEST(CompactSeriesTest, ThreeAdjacentInputsGiveTheUnion) {
  std::vector<std::unique_ptr<storage::SeriesSet>> in;
  in.push_back(Block(0, 10, 0, 7200));
  in.push_back(Block(5, 10, 7200, 14400));  // series 5..14: some new, some shared
  in.push_back(Block(0, 20, 14400, 21600));
  RecordingSink sink;
  auto stats = CompactSeries(std::move(in), &sink);
  ASSERT_TRUE(stats.ok()) << stats.status();

  std::map<std::string, std::vector<Sample>> want;
  auto add = [&](int first, int n, int64_t mint, int64_t maxt) {
    for (int i = first; i < first + n; ++i) {
      auto s = Gen(mint, maxt, 15, i);
      auto& dst = want[Series(i).ToString()];
      dst.insert(dst.end(), s.begin(), s.end());
    }
  };
  add(0, 10, 0, 7200);
  add(5, 10, 7200, 14400);
  add(0, 20, 14400, 21600);
  for (auto& [k, v] : want) {
    std::sort(v.begin(), v.end(), [](const Sample& a, const Sample& b) { return a.t < b.t; });
  }
  EXPECT_EQ(sink.samples, want);
  EXPECT_EQ(stats->num_series, 20u);
  uint64_t total = 0;
  for (auto& [k, v] : want) total += v.size();
  EXPECT_EQ(stats->num_samples, total);
  EXPECT_EQ(stats->min_time_ms, 0);
  EXPECT_EQ(stats->max_time_ms, 21600 - 15);
  // 480 samples per input block and series: cut into chunks of 120.
  for (size_t n : sink.chunk_sizes) EXPECT_LE(n, kMaxSamplesPerChunk);
  EXPECT_EQ(sink.chunk_sizes.front(), 120u);
  EXPECT_EQ(stats->num_chunks, sink.chunk_sizes.size());
}

TEST(CompactSeriesTest, ChunkBoundaries) {
  for (size_t n : {1u, 119u, 120u, 121u, 240u, 241u}) {
    std::vector<ListSeries> s;
    s.emplace_back(Series(0), Gen(0, static_cast<int64_t>(n), 1, 0));
    std::vector<std::unique_ptr<storage::SeriesSet>> in;
    in.push_back(std::make_unique<ListSeriesSet>(std::move(s)));
    RecordingSink sink;
    ASSERT_TRUE(CompactSeries(std::move(in), &sink).ok());
    std::vector<size_t> want;
    for (size_t left = n; left > 0; left -= std::min(left, kMaxSamplesPerChunk)) {
      want.push_back(std::min(left, kMaxSamplesPerChunk));
    }
    EXPECT_EQ(sink.chunk_sizes, want) << n;
  }
}

TEST(CompactSeriesTest, OverlappingInputsMergeWithoutDuplicates) {
  // Two blocks with the same series and overlapping, partly identical samples.
  std::vector<std::unique_ptr<storage::SeriesSet>> in;
  in.push_back(Block(0, 3, 0, 3000));
  in.push_back(Block(0, 3, 1500, 4500));  // same values at 1500..2985
  RecordingSink sink;
  auto stats = CompactSeries(std::move(in), &sink);
  ASSERT_TRUE(stats.ok()) << stats.status();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(sink.samples[Series(i).ToString()], Gen(0, 4500, 15, i)) << i;
  }
  EXPECT_EQ(stats->num_samples, 3u * 300u);
}

TEST(CompactSeriesTest, TombstonedRangesDisappear) {
  DeletedByLabels deleted;
  deleted[Series(0)] = {{0, 999}, {2000, 2999}};
  deleted[Series(1)] = {{kMinTimeMs, kMaxTimeMs}};  // whole series deleted
  std::vector<std::unique_ptr<storage::SeriesSet>> in;
  in.push_back(WithoutDeletedSeries(Block(0, 3, 0, 3000), std::move(deleted)));
  in.push_back(Block(2, 1, 3000, 4000));
  RecordingSink sink;
  auto stats = CompactSeries(std::move(in), &sink);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_THAT(sink.order, ElementsAre(Series(0), Series(2)));
  std::vector<Sample> want0;
  for (const Sample& s : Gen(0, 3000, 15, 0)) {
    if ((s.t >= 1000 && s.t < 2000)) want0.push_back(s);
  }
  EXPECT_EQ(sink.samples[Series(0).ToString()], want0);
  EXPECT_EQ(sink.samples[Series(2).ToString()], Gen(0, 4000, 15, 2));
  EXPECT_EQ(stats->num_series, 2u);
}

TEST(CompactSeriesTest, EmptyResult) {
  DeletedByLabels deleted;
  deleted[Series(0)] = {{kMinTimeMs, kMaxTimeMs}};
  std::vector<std::unique_ptr<storage::SeriesSet>> in;
  in.push_back(WithoutDeletedSeries(Block(0, 1, 0, 100), std::move(deleted)));
  in.push_back(storage::EmptySeriesSet());
  RecordingSink sink;
  auto stats = CompactSeries(std::move(in), &sink);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->num_series, 0u);
  EXPECT_THAT(sink.order, IsEmpty());
}

TEST(CompactSeriesTest, ErrorsPropagate) {
  std::vector<std::unique_ptr<storage::SeriesSet>> in;
  in.push_back(Block(0, 5, 0, 100));
  RecordingSink sink;
  sink.fail_after = 2;
  auto stats = CompactSeries(std::move(in), &sink);
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kResourceExhausted);

  in.clear();
  in.push_back(Block(0, 5, 0, 100));
  in.push_back(storage::EmptySeriesSet(absl::DataLossError("block X: index checksum mismatch")));
  RecordingSink sink2;
  stats = CompactSeries(std::move(in), &sink2);
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace cairn::compact
