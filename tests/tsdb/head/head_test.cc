#include "tsdb/head/head.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tsdb/chunk/any_chunk_iterator.h"
#include "tsdb/chunk/xor_chunk.h"
#include "tsdb/head/mem_series.h"
#include "tsdb/head/stripe_series.h"
#include "tsdb/io/file_system.h"
#include "tsdb/storage/append_error.h"

namespace cairn::head {
namespace {

using storage::RejectReason;

constexpr int64_t kTwoHours = 2 * 3600 * 1000;

std::unique_ptr<Head> NewHead() {
  HeadOptions o;
  o.num_stripes = 64;
  auto h = Head::Open(nullptr, "", o);
  EXPECT_TRUE(h.ok()) << h.status();
  return std::move(*h);
}

Matcher M(MatchType type, std::string_view name, std::string_view value) {
  auto m = Matcher::Create(type, name, value);
  EXPECT_TRUE(m.ok()) << m.status();
  return *m;
}

using Samples = std::vector<std::pair<int64_t, double>>;

// Runs Select and returns labels -> samples in set order. Every series is also read
// through NextBatch in several batch sizes, which must give the same samples.
std::vector<std::pair<std::string, Samples>> Query(Head* head, int64_t mint, int64_t maxt,
                                                   const std::vector<Matcher>& ms) {
  auto q = head->NewQuerier(mint, maxt);
  EXPECT_TRUE(q.ok());
  auto set = (*q)->Select(mint, maxt, ms);
  std::vector<std::pair<std::string, Samples>> out;
  while (set->Next()) {
    Samples s;
    auto it = set->At().Iterator();
    while (it->Next()) s.emplace_back(it->t(), it->v());
    EXPECT_TRUE(it->status().ok()) << it->status();
    for (size_t batch : {1, 5, 128}) {
      auto bit = set->At().Iterator();
      std::vector<Sample> buf(batch);
      Samples got;
      size_t k;
      do {
        k = bit->NextBatch(buf.data(), batch);
        for (size_t i = 0; i < k; ++i) got.emplace_back(buf[i].t, buf[i].v);
      } while (k == batch);
      EXPECT_EQ(got, s) << "batch " << batch << " [" << mint << ", " << maxt << "]";
    }
    out.emplace_back(set->At().labels().ToString(), std::move(s));
  }
  EXPECT_TRUE(set->status().ok()) << set->status();
  return out;
}

TEST(HeadTest, AppendCommitQueryRoundTrip) {
  auto head = NewHead();
  auto app = head->NewAppender();
  Labels a{{"__name__", "up"}, {"job", "b"}};
  Labels b{{"__name__", "up"}, {"job", "a"}};
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(app->Append(0, a, i * 1000, i).ok());
    ASSERT_TRUE(app->Append(0, b, i * 1000, -i).ok());
  }
  // Not visible before Commit.
  EXPECT_TRUE(Query(head.get(), 0, 1e9, {M(MatchType::kEqual, "__name__", "up")}).empty());
  ASSERT_TRUE(app->Commit().ok());
  auto r = Query(head.get(), 0, 1e9, {M(MatchType::kEqual, "__name__", "up")});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].first, "{__name__=\"up\", job=\"a\"}");  // sorted by labels
  ASSERT_EQ(r[0].second.size(), 300u);
  ASSERT_EQ(r[1].second.size(), 300u);
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(r[0].second[i], std::make_pair(int64_t{i} * 1000, double(-i)));
    EXPECT_EQ(r[1].second[i], std::make_pair(int64_t{i} * 1000, double(i)));
  }
  EXPECT_EQ(head->num_series(), 2u);
  EXPECT_EQ(head->samples_appended(), 600);
  EXPECT_EQ(head->min_time(), 0);
  EXPECT_EQ(head->max_time(), 299000);
  EXPECT_EQ(head->num_chunks(), 2 * 3);  // 120 + 120 + 60 per series

  // Range restriction, inclusive on both ends, and Seek.
  r = Query(head.get(), 10000, 12000, {M(MatchType::kEqual, "job", "b")});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].second, (Samples{{10000, 10}, {11000, 11}, {12000, 12}}));
  auto q = head->NewQuerier(0, 1e9);
  auto set = (*q)->Select(0, 1e9, {M(MatchType::kEqual, "job", "b")});
  ASSERT_TRUE(set->Next());
  auto it = set->At().Iterator();
  ASSERT_TRUE(it->Seek(250500));
  EXPECT_EQ(it->t(), 251000);
  ASSERT_TRUE(it->Seek(100));  // never moves backwards
  EXPECT_EQ(it->t(), 251000);
  ASSERT_TRUE(it->Next());
  EXPECT_EQ(it->t(), 252000);
  EXPECT_FALSE(it->Seek(300000));
}

TEST(HeadTest, RefFastPathAndRollback) {
  auto head = NewHead();
  auto app = head->NewAppender();
  Labels a{{"__name__", "x"}};
  auto ref = app->Append(0, a, 1, 1);
  ASSERT_TRUE(ref.ok());
  auto ref2 = app->Append(*ref, a, 2, 2);
  ASSERT_TRUE(ref2.ok());
  EXPECT_EQ(*ref, *ref2);
  app->Rollback();
  EXPECT_TRUE(Query(head.get(), 0, 100, {M(MatchType::kEqual, "__name__", "x")}).empty());
  EXPECT_EQ(head->samples_appended(), 0);
  // Reusable after rollback.
  ASSERT_TRUE(app->Append(*ref, a, 3, 3).ok());
  ASSERT_TRUE(app->Commit().ok());
  auto r = Query(head.get(), 0, 100, {M(MatchType::kEqual, "__name__", "x")});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].second, (Samples{{3, 3}}));
}

TEST(HeadTest, RejectsWithReasonAndRestOfBatchLands) {
  auto head = NewHead();
  Labels a{{"__name__", "x"}};
  Labels b{{"__name__", "y"}};
  {
    auto app = head->NewAppender();
    ASSERT_TRUE(app->Append(0, a, 100, 1).ok());
    ASSERT_TRUE(app->Commit().ok());
  }
  auto app = head->NewAppender();
  auto ooo = app->Append(0, a, 50, 1);
  ASSERT_FALSE(ooo.ok());
  EXPECT_EQ(ooo.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(storage::GetRejectReason(ooo.status()), RejectReason::kOutOfOrder);
  auto dup = app->Append(0, a, 100, 2);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(storage::GetRejectReason(dup.status()), RejectReason::kDuplicate);
  EXPECT_TRUE(app->Append(0, a, 100, 1).ok());  // identical: accepted, dropped
  auto bad = app->Append(0, Labels{{"job", "x"}}, 100, 1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(storage::GetRejectReason(bad.status()), RejectReason::kInvalidLabels);
  auto bad_name = app->Append(0, Labels{{"__name__", "x"}, {"0bad", "v"}}, 100, 1);
  EXPECT_EQ(storage::GetRejectReason(bad_name.status()), RejectReason::kInvalidLabels);
  ASSERT_TRUE(app->Append(0, a, 200, 2).ok());
  ASSERT_TRUE(app->Append(0, b, 10, 3).ok());
  ASSERT_TRUE(app->Commit().ok());
  auto r = Query(head.get(), 0, 1000, {M(MatchType::kRegexMatch, "__name__", "x|y")});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].second, (Samples{{100, 1}, {200, 2}}));
  EXPECT_EQ(r[1].second, (Samples{{10, 3}}));
  EXPECT_EQ(head->rejected(RejectReason::kOutOfOrder), 1);
  EXPECT_EQ(head->rejected(RejectReason::kDuplicate), 1);
  EXPECT_EQ(head->rejected(RejectReason::kInvalidLabels), 2);
  EXPECT_EQ(head->num_series(), 2u);  // invalid ones never created

  // Too old after truncation.
  ASSERT_TRUE(head->Truncate(150).ok());
  auto old = app->Append(0, b, 100, 1);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(storage::GetRejectReason(old.status()), RejectReason::kTooOld);
  EXPECT_EQ(head->rejected(RejectReason::kTooOld), 1);
}

TEST(HeadTest, CommitRechecksAgainstOtherAppenders) {
  auto head = NewHead();
  Labels a{{"__name__", "x"}};
  auto app1 = head->NewAppender();
  auto app2 = head->NewAppender();
  ASSERT_TRUE(app1->Append(0, a, 100, 1).ok());
  ASSERT_TRUE(app2->Append(0, a, 100, 2).ok());  // nothing committed yet: accepted
  ASSERT_TRUE(app2->Append(0, a, 50, 2).ok());
  ASSERT_TRUE(app1->Commit().ok());
  ASSERT_TRUE(app2->Commit().ok());
  auto r = Query(head.get(), 0, 1000, {M(MatchType::kEqual, "__name__", "x")});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].second, (Samples{{100, 1}}));
  EXPECT_EQ(head->rejected(RejectReason::kDuplicate), 1);
  EXPECT_EQ(head->rejected(RejectReason::kOutOfOrder), 1);
}

TEST(MemSeriesTest, CutsAt120SamplesAndAtRangeBoundary) {
  MemSeries s(1, Labels{{"__name__", "x"}});
  absl::MutexLock l(&s.mu());
  int cuts = 0;
  for (int i = 0; i < 250; ++i) cuts += s.Append(i, i, kTwoHours);
  EXPECT_EQ(cuts, 2);
  ASSERT_EQ(s.closed_chunks().size(), 2u);
  EXPECT_EQ(s.closed_chunks()[0].num_samples, 120);
  EXPECT_EQ(s.closed_chunks()[0].min_time, 0);
  EXPECT_EQ(s.closed_chunks()[0].max_time, 119);
  EXPECT_EQ(s.closed_chunks()[1].num_samples, 120);
  EXPECT_EQ(s.open_chunk().num_samples(), 10);
  // Closed chunk bytes decode to what went in. Integers: packed, which is smaller.
  EXPECT_EQ(s.closed_chunks()[1].encoding, ChunkEncoding::kPacked);
  AnyChunkIterator it;
  it.Reset(s.closed_chunks()[1].encoding, s.closed_chunks()[1].bytes());
  for (int i = 120; i < 240; ++i) {
    ASSERT_TRUE(it.Next());
    EXPECT_EQ(it.t(), i);
    EXPECT_EQ(it.v(), i);
  }
  EXPECT_FALSE(it.Next());
  EXPECT_TRUE(it.status().ok());

  MemSeries b(2, Labels{{"__name__", "y"}});
  absl::MutexLock lb(&b.mu());
  EXPECT_FALSE(b.Append(kTwoHours - 2, 1, kTwoHours));
  EXPECT_FALSE(b.Append(kTwoHours - 1, 1, kTwoHours));
  EXPECT_TRUE(b.Append(kTwoHours, 1, kTwoHours));  // crosses the aligned 2h boundary
  ASSERT_EQ(b.closed_chunks().size(), 1u);
  EXPECT_EQ(b.closed_chunks()[0].num_samples, 2);
  EXPECT_EQ(b.closed_chunks()[0].max_time, kTwoHours - 1);
  EXPECT_EQ(b.open_chunk().min_time(), kTwoHours);
  // Negative timestamps align by floor.
  MemSeries n(3, Labels{{"__name__", "z"}});
  absl::MutexLock ln(&n.mu());
  EXPECT_FALSE(n.Append(-5, 1, 10));
  EXPECT_FALSE(n.Append(-1, 1, 10));
  EXPECT_TRUE(n.Append(0, 1, 10));
}

// A closed chunk is packed only when every value packs and the result is smaller:
// values with many digits (and NaN) keep the XOR bytes, bit for bit.
TEST(MemSeriesTest, ClosedChunksKeepXorWhenPackingDoesNotPay) {
  MemSeries s(1, Labels{{"__name__", "x"}});
  absl::MutexLock l(&s.mu());
  XorChunkEncoder want;
  for (int i = 0; i < 121; ++i) {
    const double v = i == 60 ? std::nan("") : std::sqrt(static_cast<double>(i) + 0.5);
    s.Append(i * 15000, v, kTwoHours);
    if (i < 120) want.Append(i * 15000, v);
  }
  ASSERT_EQ(s.closed_chunks().size(), 1u);
  EXPECT_EQ(s.closed_chunks()[0].encoding, ChunkEncoding::kXor);
  EXPECT_EQ(s.closed_chunks()[0].bytes(), want.bytes());
}

// Per-series memory after 2 h at a 15 s scrape (480 samples), for the brief's
// <= 1.5 KiB target. Value shape matters to Gorilla: a request counter that grows by
// small integers is typical of real exporters; a fractional gauge is the bad case.
size_t FootprintAfter480(const std::function<double(int)>& value) {
  MemSeries s(1, Labels{{"__name__", "http_requests_total"},
                        {"code", "200"},
                        {"instance", "host-0001:9100"},
                        {"job", "api"}});
  absl::MutexLock l(&s.mu());
  for (int i = 0; i < 480; ++i) {
    s.Append(int64_t{1700000000000} + i * 15000, value(i), kTwoHours);
  }
  size_t total = sizeof(MemSeries) + s.HeapBytes();
  std::printf("sizeof(MemSeries)=%zu heap=%zu total=%zu bytes (%zu closed chunks)\n",
              sizeof(MemSeries), s.HeapBytes(), total, s.closed_chunks().size());
  return total;
}

TEST(MemSeriesTest, FootprintAfter480Samples) {
  EXPECT_LE(FootprintAfter480([](int i) { return 1000.0 + 3 * i + (i * 7919 % 5); }), 1536u);
  EXPECT_LE(FootprintAfter480([](int) { return 1.0; }), 768u);
  // Fractional gauge: reported, not bounded (Gorilla needs ~6-8 bytes/sample there).
  FootprintAfter480([](int i) { return 0.1 * i + 0.37 * (i % 11); });
}

TEST(StripeSeriesTest, GetOrCreateByLabelsAndRef) {
  StripeSeries m(16);
  Labels a{{"__name__", "a"}};
  auto [s1, c1] = m.GetOrCreate(a);
  EXPECT_TRUE(c1);
  auto [s2, c2] = m.GetOrCreate(a);
  EXPECT_FALSE(c2);
  EXPECT_EQ(s1, s2);
  EXPECT_EQ(m.GetByRef(s1->ref()), s1);
  EXPECT_EQ(m.GetByLabels(a), s1);
  EXPECT_EQ(m.GetByLabels(Labels{{"__name__", "b"}}), nullptr);
  auto [s3, c3] = m.GetOrCreate(Labels{{"__name__", "c"}}, 100);
  EXPECT_TRUE(c3);
  EXPECT_EQ(s3->ref(), 100u);
  auto [s4, c4] = m.GetOrCreate(Labels{{"__name__", "d"}});
  EXPECT_GT(s4->ref(), 100u);
  EXPECT_EQ(m.size(), 3u);
  auto removed = m.RemoveIf([&](MemSeries& s) { return s.ref() == 100; });
  EXPECT_EQ(removed, std::vector<uint64_t>{100});
  EXPECT_EQ(m.GetByRef(100), nullptr);
  EXPECT_EQ(m.size(), 2u);
}

// A lookup by labels compares about one stored label set, the one it finds. The
// stripes were once chosen by the hash's low bits, which are also the hash set's
// 7-bit tags: every series of a stripe had the same tag, every lookup compared the
// labels of every series in the probed group (~3.5 each at 100k series, a cache miss
// apiece), and appends by labels ran at half speed.
TEST(StripeSeriesTest, LookupsCompareAboutOneLabelSetEach) {
  StripeSeries m;  // the head's default stripe count
  constexpr int kSeries = 100000;
  std::vector<Labels> labels;
  for (int i = 0; i < kSeries; ++i) {
    labels.push_back(Labels{{"__name__", "http_requests_total"},
                            {"instance", "host-" + std::to_string(i / 100) + ":9100"},
                            {"handler", "/h" + std::to_string(i % 100)}});
    m.GetOrCreate(labels.back());
  }
  const uint64_t before = StripeSeries::LabelComparisonsOnThisThread();
  for (const Labels& l : labels) ASSERT_NE(m.GetByLabels(l), nullptr);
  const uint64_t compared = StripeSeries::LabelComparisonsOnThisThread() - before;
  EXPECT_GE(compared, static_cast<uint64_t>(kSeries));
  EXPECT_LT(compared, static_cast<uint64_t>(kSeries) * 11 / 10);
}

TEST(HeadTest, ConcurrentAppendersDistinctAndSharedSeries) {
  auto head = NewHead();
  constexpr int kThreads = 4, kSeries = 50, kSamples = 400;
  std::vector<std::thread> threads;
  for (int th = 0; th < kThreads; ++th) {
    threads.emplace_back([&, th] {
      auto app = head->NewAppender();
      for (int i = 0; i < kSamples; ++i) {
        for (int s = 0; s < kSeries; ++s) {
          Labels own{{"__name__", "own"}, {"t", std::to_string(th)}, {"s", std::to_string(s)}};
          EXPECT_TRUE(app->Append(0, own, i, i).ok());
          // Shared series: every thread writes the same value at each timestamp, so
          // racing commits collapse to exactly one sample per timestamp.
          Labels shared{{"__name__", "shared"}, {"s", std::to_string(s)}};
          (void)app->Append(0, shared, i, i * 2);
        }
        if (i % 10 == 9) {
          EXPECT_TRUE(app->Commit().ok());
        }
      }
      EXPECT_TRUE(app->Commit().ok());
    });
  }
  for (auto& t : threads) t.join();
  auto own = Query(head.get(), 0, 1e9, {M(MatchType::kEqual, "__name__", "own")});
  ASSERT_EQ(own.size(), size_t{kThreads * kSeries});
  for (const auto& [ls, samples] : own) {
    ASSERT_EQ(samples.size(), size_t{kSamples}) << ls;
    for (int i = 0; i < kSamples; ++i) ASSERT_EQ(samples[i].first, i);
  }
  auto shared = Query(head.get(), 0, 1e9, {M(MatchType::kEqual, "__name__", "shared")});
  ASSERT_EQ(shared.size(), size_t{kSeries});
  for (const auto& [ls, samples] : shared) {
    // Strictly increasing timestamps, all values consistent; none duplicated.
    for (size_t i = 1; i < samples.size(); ++i) ASSERT_LT(samples[i - 1].first, samples[i].first);
    for (const auto& [t, v] : samples) ASSERT_EQ(v, t * 2.0);
    // The last timestamp always lands (every thread commits it last).
    ASSERT_EQ(samples.back().first, kSamples - 1);
  }
  EXPECT_EQ(head->rejected(RejectReason::kDuplicate), 0);
}

TEST(HeadTest, TruncateDropsOldChunksAndEmptySeries) {
  auto head = NewHead();
  auto app = head->NewAppender();
  Labels old{{"__name__", "old"}};
  Labels live{{"__name__", "live"}, {"job", "j"}};
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(app->Append(0, old, i * 1000, i).ok());
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(app->Append(0, live, i * 1000, i).ok());
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(head->num_series(), 2u);
  ASSERT_TRUE(head->Truncate(250000).ok());
  EXPECT_EQ(head->num_series(), 1u);
  EXPECT_TRUE(Query(head.get(), 0, 1e9, {M(MatchType::kEqual, "__name__", "old")}).empty());
  auto r = Query(head.get(), 0, 1e9, {M(MatchType::kEqual, "__name__", "live")});
  ASSERT_EQ(r.size(), 1u);
  // Chunks are [0,119] [120,239] [240,359] [360,479] [480,499]s: the first two drop.
  EXPECT_EQ(r[0].second.front().first, 240000);
  EXPECT_EQ(r[0].second.size(), 260u);
  EXPECT_EQ(head->min_time(), 240000);
  EXPECT_EQ(head->num_chunks(), 3);
  auto q = head->NewQuerier(0, 1e9);
  auto names = (*q)->LabelValues("__name__", {});
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"live"});

  std::vector<std::pair<std::string, int>> seen;
  ASSERT_TRUE(head->ForEachSeriesChunks(0, 480000,
                                        [&](const Labels& ls, const std::vector<ChunkView>& cs) {
                                          seen.emplace_back(ls.ToString(),
                                                            static_cast<int>(cs.size()));
                                          return absl::OkStatus();
                                        })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, int>>{{live.ToString(), 2}}));
}

TEST(HeadTest, LabelNamesAndValuesWithMatchers) {
  auto head = NewHead();
  auto app = head->NewAppender();
  ASSERT_TRUE(app->Append(0, Labels{{"__name__", "up"}, {"job", "a"}, {"zone", "z1"}}, 1, 1).ok());
  ASSERT_TRUE(app->Append(0, Labels{{"__name__", "up"}, {"job", "b"}}, 1, 1).ok());
  ASSERT_TRUE(app->Append(0, Labels{{"__name__", "go"}, {"job", "c"}, {"env", "p"}}, 1, 1).ok());
  ASSERT_TRUE(app->Commit().ok());
  auto q = head->NewQuerier(0, 10);
  auto names = (*q)->LabelNames({});
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"__name__", "env", "job", "zone"}));
  names = (*q)->LabelNames({M(MatchType::kEqual, "__name__", "up")});
  EXPECT_EQ(*names, (std::vector<std::string>{"__name__", "job", "zone"}));
  auto values = (*q)->LabelValues("job", {M(MatchType::kEqual, "__name__", "up")});
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(*values, (std::vector<std::string>{"a", "b"}));
  values = (*q)->LabelValues(
      "job", {M(MatchType::kRegexMatch, "job", ".+"), M(MatchType::kNotEqual, "job", "b")});
  EXPECT_EQ(*values, (std::vector<std::string>{"a", "c"}));
  // A matcher on a label the series lacks: zone="" selects the ones without zone.
  auto r = Query(head.get(), 0, 10,
                 {M(MatchType::kEqual, "__name__", "up"), M(MatchType::kEqual, "zone", "")});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].first, "{__name__=\"up\", job=\"b\"}");
  // Only empty-matching matchers: an error.
  auto set = (*q)->Select(0, 10, {M(MatchType::kEqual, "zone", "")});
  EXPECT_FALSE(set->Next());
  EXPECT_EQ(set->status().code(), absl::StatusCode::kInvalidArgument);
  // Without matchers, values come from the postings: every series' value, sorted.
  values = (*q)->LabelValues("job", {});
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(*values, (std::vector<std::string>{"a", "b", "c"}));
  values = (*q)->LabelValues("nope", {});
  ASSERT_TRUE(values.ok());
  EXPECT_TRUE(values->empty());
  values = (*q)->LabelValues("", {});  // not the postings' all-series entry
  ASSERT_TRUE(values.ok());
  EXPECT_TRUE(values->empty());
}

// Names and values of series that truncation removed are gone, with or without
// matchers.
TEST(HeadTest, LabelNamesAndValuesAfterTruncation) {
  auto head = NewHead();
  auto app = head->NewAppender();
  ASSERT_TRUE(app->Append(0, Labels{{"__name__", "up"}, {"job", "old"}, {"zone", "z"}}, 1, 1).ok());
  ASSERT_TRUE(app->Append(0, Labels{{"__name__", "up"}, {"job", "new"}}, 1, 1).ok());
  ASSERT_TRUE(app->Append(0, Labels{{"__name__", "up"}, {"job", "new"}}, 5000, 1).ok());
  ASSERT_TRUE(app->Commit().ok());
  ASSERT_TRUE(head->Truncate(1000).ok());
  auto q = head->NewQuerier(INT64_MIN, INT64_MAX);
  for (const std::vector<Matcher>& ms :
       {std::vector<Matcher>{}, std::vector<Matcher>{M(MatchType::kEqual, "__name__", "up")}}) {
    auto names = (*q)->LabelNames(ms);
    ASSERT_TRUE(names.ok());
    EXPECT_EQ(*names, (std::vector<std::string>{"__name__", "job"})) << ms.size();
    auto values = (*q)->LabelValues("job", ms);
    ASSERT_TRUE(values.ok());
    EXPECT_EQ(*values, (std::vector<std::string>{"new"})) << ms.size();
  }
}

std::string TempDir(const std::string& name) {
  std::string dir = ::testing::TempDir() + "/head_test_" + name + "_" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  return dir;
}

std::unique_ptr<Head> OpenWal(const std::string& dir, size_t max_series = 0) {
  HeadOptions o;
  o.num_stripes = 64;
  o.max_series = max_series;
  auto h = Head::Open(io::FileSystem::Default(), dir, o);
  EXPECT_TRUE(h.ok()) << h.status();
  return h.ok() ? std::move(*h) : nullptr;
}

TEST(HeadWalTest, ReplayRestoresCommittedDataExactly) {
  std::string dir = TempDir("replay");
  Labels a{{"__name__", "a"}, {"job", "x"}};
  Labels b{{"__name__", "b"}};
  Labels never{{"__name__", "rolled_back"}};
  std::vector<std::pair<std::string, Samples>> before;
  {
    auto head = OpenWal(dir);
    ASSERT_NE(head, nullptr);
    auto app = head->NewAppender();
    for (int i = 0; i < 300; ++i) {
      ASSERT_TRUE(app->Append(0, a, i * 15000, i * 0.5).ok());
      if (i % 3 == 0) {
        ASSERT_TRUE(app->Append(0, b, i * 15000, -i).ok());
      }
      if (i % 50 == 49) {
        ASSERT_TRUE(app->Commit().ok());
      }
    }
    ASSERT_TRUE(app->Commit().ok());
    ASSERT_TRUE(app->Append(0, never, 299 * 15000, 1).ok());
    app->Rollback();
    ASSERT_TRUE(app->Append(0, a, 1, 1).ok() == false);  // out of order, not logged
    before = Query(head.get(), INT64_MIN, INT64_MAX, {M(MatchType::kRegexMatch, "__name__", ".+")});
    ASSERT_EQ(before.size(), 2u);
  }
  auto head = OpenWal(dir);
  ASSERT_NE(head, nullptr);
  auto after =
      Query(head.get(), INT64_MIN, INT64_MAX, {M(MatchType::kRegexMatch, "__name__", ".+")});
  EXPECT_EQ(after, before);
  EXPECT_EQ(head->num_series(), 2u);  // the rolled-back series is not restored
  EXPECT_EQ(head->samples_appended(), 400);
  // Appends continue after replay, and refs do not collide.
  auto app = head->NewAppender();
  auto ref = app->Append(0, Labels{{"__name__", "c"}}, 299 * 15000 + 5, 5);
  ASSERT_TRUE(ref.ok());
  ASSERT_TRUE(app->Append(0, a, 300 * 15000, 1).ok());
  ASSERT_TRUE(app->Commit().ok());
  head.reset();
  head = OpenWal(dir);
  ASSERT_NE(head, nullptr);
  auto c = Query(head.get(), 0, INT64_MAX, {M(MatchType::kEqual, "__name__", "c")});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].second, (Samples{{299 * 15000 + 5, 5}}));
  EXPECT_EQ(
      Query(head.get(), 0, INT64_MAX, {M(MatchType::kEqual, "__name__", "a")})[0].second.size(),
      301u);
  std::filesystem::remove_all(dir);
}

// kOsBuffer commits reach the kernel without an fsync: a second head opened on the
// same directory while the first still runs (as after kill -9) replays them, and
// SyncWal() then fsyncs them once.
TEST(HeadWalTest, OsBufferCommitSkipsFsyncButSurvivesProcessCrash) {
  std::string dir = TempDir("osbuffer");
  Labels scraped{{"__name__", "scraped"}};
  Labels pushed{{"__name__", "pushed"}};
  auto head = OpenWal(dir);
  ASSERT_NE(head, nullptr);
  const uint64_t fsyncs_at_open = head->wal_stats().fsyncs;
  auto app = head->NewAppender();
  app->SetCommitDurability(storage::CommitDurability::kOsBuffer);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(app->Append(0, scraped, i * 1000, i).ok());
    ASSERT_TRUE(app->Commit().ok());
  }
  EXPECT_EQ(head->wal_stats().fsyncs, fsyncs_at_open);
  {
    auto crashed_view = OpenWal(dir);  // reads what the kernel has: the unsynced tail
    ASSERT_NE(crashed_view, nullptr);
    auto got =
        Query(crashed_view.get(), 0, INT64_MAX, {M(MatchType::kEqual, "__name__", "scraped")});
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].second.size(), 10u);
  }
  ASSERT_TRUE(head->SyncWal().ok());
  EXPECT_EQ(head->wal_stats().fsyncs, fsyncs_at_open + 1);
  ASSERT_TRUE(head->SyncWal().ok());  // nothing new: no second fsync
  EXPECT_EQ(head->wal_stats().fsyncs, fsyncs_at_open + 1);
  // The default stays one fsync per commit.
  auto app2 = head->NewAppender();
  ASSERT_TRUE(app2->Append(0, pushed, 1000, 1).ok());
  ASSERT_TRUE(app2->Commit().ok());
  EXPECT_EQ(head->wal_stats().fsyncs, fsyncs_at_open + 2);
  head.reset();
  std::filesystem::remove_all(dir);
}

TEST(HeadWalTest, TruncateCheckpointThenReopen) {
  std::string dir = TempDir("truncate");
  Labels old{{"__name__", "old"}};
  Labels live{{"__name__", "live"}};
  {
    auto head = OpenWal(dir);
    ASSERT_NE(head, nullptr);
    auto app = head->NewAppender();
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(app->Append(0, old, i * 1000, i).ok());
    for (int i = 0; i < 500; ++i) ASSERT_TRUE(app->Append(0, live, i * 1000, i).ok());
    ASSERT_TRUE(app->Commit().ok());
    ASSERT_TRUE(head->Truncate(250000).ok());
    for (int i = 500; i < 510; ++i) ASSERT_TRUE(app->Append(0, live, i * 1000, i).ok());
    ASSERT_TRUE(app->Commit().ok());
  }
  auto head = OpenWal(dir);
  ASSERT_NE(head, nullptr);
  EXPECT_TRUE(Query(head.get(), 0, INT64_MAX, {M(MatchType::kEqual, "__name__", "old")}).empty());
  auto r = Query(head.get(), 0, INT64_MAX, {M(MatchType::kEqual, "__name__", "live")});
  ASSERT_EQ(r.size(), 1u);
  // The checkpoint keeps samples at or after 250 s; the later segment adds 500..509.
  ASSERT_FALSE(r[0].second.empty());
  EXPECT_EQ(r[0].second.front().first, 250000);
  EXPECT_EQ(r[0].second.back().first, 509000);
  EXPECT_EQ(r[0].second.size(), 260u);
  std::filesystem::remove_all(dir);
}

// Prometheus' appendable window: samples more than half a chunk range behind the
// newest sample are refused; FenceAppendsBefore(t) raises the bound to t, also for
// samples accepted by Append() but not yet committed.
TEST(HeadAppendWindowTest, OldSamplesAndFencedCommitsAreRefused) {
  HeadOptions o;
  o.chunk_range_ms = 1000;
  auto h = Head::Open(io::FileSystem::Default(), "", o);
  ASSERT_TRUE(h.ok());
  Labels a{{"__name__", "a"}}, b{{"__name__", "b"}};
  auto app = (*h)->NewAppender();
  ASSERT_TRUE(app->Append(0, a, 10000, 1).ok());
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ((*h)->AppendableMinValidTime(), 9500);
  EXPECT_FALSE(app->Append(0, b, 9499, 1).ok());
  ASSERT_TRUE(app->Append(0, b, 9500, 1).ok());
  ASSERT_TRUE(app->Append(0, b, 9800, 2).ok());
  (*h)->FenceAppendsBefore(9700);  // between Append and Commit
  ASSERT_TRUE(app->Commit().ok());
  auto got = Query(h->get(), INT64_MIN, INT64_MAX, {M(MatchType::kEqual, "__name__", "b")});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].second, (Samples{{9800, 2}}));
  EXPECT_EQ((*h)->rejected(storage::RejectReason::kTooOld), 2);
}

}  // namespace
}  // namespace cairn::head

namespace cairn::head {
namespace {

TEST(HeadSeriesLimitTest, NewSeriesRefusedExistingKeepIngesting) {
  HeadOptions o;
  o.num_stripes = 4;
  o.max_series = 2;
  auto opened = Head::Open(nullptr, "", o);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Head* head = opened->get();
  Labels a{{"__name__", "a"}};
  Labels b{{"__name__", "b"}};
  Labels c{{"__name__", "c"}};
  auto app = head->NewAppender();
  ASSERT_TRUE(app->Append(0, a, 10, 1).ok());
  ASSERT_TRUE(app->Append(0, b, 10, 1).ok());
  auto refused = app->Append(0, c, 10, 1);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(storage::GetRejectReason(refused.status()), RejectReason::kLimit);
  EXPECT_NE(refused.status().message().find("c"), std::string_view::npos);
  EXPECT_NE(refused.status().message().find("the limit is 2"), std::string_view::npos)
      << refused.status();
  // Existing series keep taking samples, in the same batch and later ones.
  ASSERT_TRUE(app->Append(0, a, 20, 2).ok());
  ASSERT_TRUE(app->Commit().ok());
  ASSERT_TRUE(app->Append(0, b, 30, 3).ok());
  EXPECT_FALSE(app->Append(0, c, 30, 3).ok());
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(head->num_series(), 2u);
  EXPECT_EQ(head->rejected(RejectReason::kLimit), 2);
  auto r = Query(head, 0, 100, {M(MatchType::kRegexMatch, "__name__", ".+")});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].second, (Samples{{10, 1}, {20, 2}}));
  EXPECT_EQ(r[1].second, (Samples{{10, 1}, {30, 3}}));
  // Once truncation drops series, room for new ones opens up again.
  ASSERT_TRUE(head->Truncate(1000).ok());
  EXPECT_EQ(head->num_series(), 0u);
  ASSERT_TRUE(app->Append(0, c, 2000, 1).ok());
  ASSERT_TRUE(app->Commit().ok());
}

TEST(HeadSeriesLimitTest, ReplayRestoresSeriesBeyondALoweredLimit) {
  std::string dir = TempDir("series_limit");
  {
    auto head = OpenWal(dir);
    ASSERT_NE(head, nullptr);
    auto app = head->NewAppender();
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(app->Append(0, Labels{{"__name__", "s" + std::to_string(i)}}, 10, i).ok());
    }
    ASSERT_TRUE(app->Commit().ok());
  }
  auto head = OpenWal(dir, /*max_series=*/1);
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(head->num_series(), 3u);  // replay is not limited
  auto app = head->NewAppender();
  EXPECT_TRUE(app->Append(0, Labels{{"__name__", "s1"}}, 20, 1).ok());
  auto refused = app->Append(0, Labels{{"__name__", "s9"}}, 20, 1);
  EXPECT_EQ(storage::GetRejectReason(refused.status()), RejectReason::kLimit);
  ASSERT_TRUE(app->Commit().ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cairn::head
