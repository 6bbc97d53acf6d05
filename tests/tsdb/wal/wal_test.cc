#include "tsdb/wal/wal.h"

#include <unistd.h>

#include <atomic>
#include <bit>
#include <random>
#include <set>
#include <thread>

#include "gtest/gtest.h"
#include "tsdb/model/sample.h"
#include "tsdb/wal/checkpoint.h"
#include "tsdb/wal/record.h"
#include "tsdb/wal/replay.h"
#include "tsdb/wal/wal_format.h"
#include "tsdb/wal/wal_reader.h"

namespace cairn::wal {
namespace {

class WalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cairn_wal_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { ASSERT_TRUE(fs_->RemoveAll(dir_).ok()); }

  std::vector<std::string> ReadAll(absl::Status* status = nullptr) {
    auto r = WalReader::Open(fs_, dir_);
    EXPECT_TRUE(r.ok());
    std::vector<std::string> out;
    while ((*r)->Next()) out.emplace_back((*r)->record());
    if (status != nullptr) *status = (*r)->status();
    return out;
  }

  io::FileSystem* fs_ = io::FileSystem::Default();
  std::string dir_;
};

std::string Rec(int i, size_t size) {
  std::string s(size, static_cast<char>('a' + i % 26));
  s += std::to_string(i);
  return s;
}

TEST(RecordTest, SeriesRoundTrip) {
  std::vector<SeriesRecord> in = {{1, Labels{{"__name__", "up"}, {"job", "a"}}},
                                  {1ULL << 40, Labels{{"__name__", "x"}}}};
  std::string buf;
  EncodeSeries(in, &buf);
  EXPECT_EQ(*PeekRecordType(buf), RecordType::kSeries);
  std::vector<SeriesRecord> out;
  ASSERT_TRUE(DecodeSeries(buf, &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].ref, 1ULL << 40);
  EXPECT_EQ(out[0].labels, in[0].labels);
}

TEST(RecordTest, SamplesRoundTripKeepsBits) {
  std::vector<SampleRecord> in = {
      {5, 1000, 1.5},
      {3, -1000, StaleNaN()},
      {7, std::numeric_limits<int64_t>::max(), -0.0},
      {9, std::numeric_limits<int64_t>::min(), std::bit_cast<double>(0x7ff8000000000123ULL)}};
  std::string buf;
  EncodeSamples(in, &buf);
  std::vector<SampleRecord> out;
  ASSERT_TRUE(DecodeSamples(buf, &out).ok());
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].ref, in[i].ref);
    EXPECT_EQ(out[i].t, in[i].t);
    EXPECT_EQ(std::bit_cast<uint64_t>(out[i].v), std::bit_cast<uint64_t>(in[i].v));
  }
  buf.clear();
  EncodeSamples({}, &buf);
  ASSERT_TRUE(DecodeSamples(buf, &out).ok());
  EXPECT_TRUE(out.empty());
}

// The worked examples of docs/format/wal.md: the type-2 record (still read, as WALs
// written before the columnar encoding hold them) and the type-4 one written now.
TEST(RecordTest, DocumentedSamplesExamples) {
  const unsigned char v2[] = {0x02, 0x01, 0x01, 0xD0, 0x0F, 0x00, 0x00, 0x3F,
                              0xF0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  std::vector<SampleRecord> out;
  ASSERT_TRUE(
      DecodeSamples(std::string_view(reinterpret_cast<const char*>(v2), sizeof(v2)), &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].ref, 1u);
  EXPECT_EQ(out[0].t, 1000);
  EXPECT_EQ(out[0].v, 1.0);

  const unsigned char v4[] = {0x04, 0x02, 0x01, 0xD0, 0x0F, 0x00, 0x02, 0x00, 0x00,
                              0x3F, 0xF0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,   // 1.0
                              0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};  // 2.0
  const std::string v4s(reinterpret_cast<const char*>(v4), sizeof(v4));
  ASSERT_TRUE(DecodeSamples(v4s, &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].ref, 2u);
  EXPECT_EQ(out[1].t, 1000);
  EXPECT_EQ(out[1].v, 2.0);
  std::string enc;
  EncodeSamples({{1, 1000, 1.0}, {2, 1000, 2.0}}, &enc);
  EXPECT_EQ(enc, v4s);
  EXPECT_EQ(*PeekRecordType(v4s), RecordType::kSamples);
}

TEST(RecordTest, TombstonesRoundTrip) {
  std::vector<TombstoneRecord> in = {{4, {{1, 2}, {-5, 100}}}, {6, {}}};
  std::string buf;
  EncodeTombstones(in, &buf);
  std::vector<TombstoneRecord> out;
  ASSERT_TRUE(DecodeTombstones(buf, &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].intervals, in[0].intervals);
}

TEST(RecordTest, GarbageNeverCrashes) {
  std::mt19937 rng(3);
  std::vector<SeriesRecord> s;
  std::vector<SampleRecord> sm;
  std::vector<TombstoneRecord> t;
  std::string good;
  EncodeSamples({{1, 2, 3}, {4, 5, 6}}, &good);
  for (int i = 0; i < 20000; ++i) {
    std::string g = good;
    if (i % 2) {
      g.resize(rng() % 64);
      for (char& c : g) c = static_cast<char>(rng());
    } else {
      g[rng() % g.size()] ^= static_cast<char>(1 + rng() % 255);
    }
    (void)DecodeSeries(g, &s);
    (void)DecodeSamples(g, &sm);
    (void)DecodeTombstones(g, &t);
  }
  EXPECT_FALSE(DecodeSamples(good.substr(0, good.size() - 1), &sm).ok());
  EXPECT_EQ(DecodeSamples(good.substr(0, good.size() - 1), &sm).code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(WalTest, LogReadAcrossSegmentsWithCompression) {
  {
    auto wal = Wal::Open(fs_, dir_, WalOptions{.segment_size_bytes = 4096});
    ASSERT_TRUE(wal.ok()) << wal.status();
    for (int i = 0; i < 200; ++i) ASSERT_TRUE((*wal)->Log(Rec(i, i * 7 % 900)).ok());
    ASSERT_TRUE((*wal)->Sync().ok());
    auto segs = (*wal)->Segments();
    ASSERT_TRUE(segs.ok());
    EXPECT_GT(segs->second, segs->first) << "expected rotation";
  }
  std::vector<std::string> got = ReadAll();
  ASSERT_EQ(got.size(), 200u);
  for (int i = 0; i < 200; ++i) ASSERT_EQ(got[i], Rec(i, i * 7 % 900));
}

TEST_F(WalTest, GroupCommitSharesFsyncsAndLosesNothing) {
  auto wal = Wal::Open(fs_, dir_, WalOptions{.segment_size_bytes = 64 << 10});
  ASSERT_TRUE(wal.ok());
  constexpr int kThreads = 4, kPerThread = 200;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        uint64_t seq = 0;
        if (!(*wal)->Log({Rec(t * 1000 + i, 100)}, &seq).ok() || !(*wal)->SyncUpTo(seq).ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  // Every commit was made durable, some by another thread's fsync (segment
  // rotations fsync too, so compare against commits, not exactly).
  EXPECT_LE((*wal)->stats().fsyncs, static_cast<uint64_t>(kThreads * kPerThread) + 100);
  ASSERT_TRUE((*wal)->Close().ok());
  std::vector<std::string> got = ReadAll();
  EXPECT_EQ(got.size(), static_cast<size_t>(kThreads * kPerThread));
  std::set<std::string> unique(got.begin(), got.end());
  EXPECT_EQ(unique.size(), got.size());
}

TEST_F(WalTest, TornTailIsRepairedAtEveryOffset) {
  {
    auto wal = Wal::Open(fs_, dir_);
    ASSERT_TRUE(wal.ok());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE((*wal)->Log(Rec(i, 300)).ok());
    ASSERT_TRUE((*wal)->Close().ok());
  }
  const std::string seg = io::JoinPath(dir_, SegmentName(0));
  const std::string full = *fs_->ReadFile(seg);
  auto r = WalReader::Open(fs_, dir_);
  std::vector<uint64_t> ends;
  while ((*r)->Next()) ends.push_back((*r)->good_end());
  ASSERT_EQ(ends.size(), 3u);
  for (uint64_t cut = ends[1] + 1; cut < full.size(); ++cut) {
    ASSERT_TRUE(fs_->RemoveAll(dir_).ok());
    ASSERT_TRUE(fs_->CreateDirs(dir_).ok());
    ASSERT_TRUE(fs_->WriteFileAtomically(seg, full.substr(0, cut)).ok());
    absl::Status st;
    std::vector<std::string> before = ReadAll(&st);
    EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << cut;
    EXPECT_EQ(before.size(), 2u);
    auto wal = Wal::Open(fs_, dir_);
    ASSERT_TRUE(wal.ok()) << wal.status();
    EXPECT_EQ((*wal)->stats().corruptions_repaired, 1u);
    ASSERT_TRUE((*wal)->Log("after").ok());
    ASSERT_TRUE((*wal)->Close().ok());
    std::vector<std::string> after = ReadAll(&st);
    ASSERT_TRUE(st.ok()) << st;
    ASSERT_EQ(after.size(), 3u) << "cut at " << cut;
    EXPECT_EQ(after[1], Rec(1, 300));
    EXPECT_EQ(after[2], "after");
  }
}

TEST_F(WalTest, FlippedByteIsNamedAndLaterSegmentsDropped) {
  {
    auto wal = Wal::Open(fs_, dir_, WalOptions{.segment_size_bytes = 1024, .compress = false});
    ASSERT_TRUE(wal.ok());
    for (int i = 0; i < 20; ++i) ASSERT_TRUE((*wal)->Log(Rec(i, 200)).ok());
    ASSERT_TRUE((*wal)->Close().ok());
  }
  const std::string seg = io::JoinPath(dir_, SegmentName(1));
  std::string data = *fs_->ReadFile(seg);
  data[kSegmentHeaderBytes + kRecordHeaderBytes + 10] ^= 0x40;
  ASSERT_TRUE(fs_->WriteFileAtomically(seg, data).ok());
  absl::Status st;
  std::vector<std::string> got = ReadAll(&st);
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("wal segment 00000001 offset 8: record checksum mismatch"),
            absl::string_view::npos)
      << st.message();
  size_t good = got.size();
  auto wal = Wal::Open(fs_, dir_);
  ASSERT_TRUE(wal.ok());
  ASSERT_TRUE((*wal)->Close().ok());
  got = ReadAll(&st);
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(got.size(), good);
  EXPECT_FALSE(fs_->Exists(io::JoinPath(dir_, SegmentName(3))));
}

TEST_F(WalTest, CheckpointKeepsOnlyWhatIsNeededAndReplayReadsItFirst) {
  auto wal = Wal::Open(fs_, dir_, WalOptions{.segment_size_bytes = 1 << 20});
  ASSERT_TRUE(wal.ok());
  std::string buf;
  EncodeSeries({{1, Labels{{"__name__", "a"}}}, {2, Labels{{"__name__", "b"}}}}, &buf);
  ASSERT_TRUE((*wal)->Log(buf).ok());
  buf.clear();
  EncodeSamples({{1, 100, 1}, {2, 100, 2}, {1, 200, 3}, {2, 200, 4}}, &buf);
  ASSERT_TRUE((*wal)->Log(buf).ok());
  ASSERT_TRUE((*wal)->NextSegment().ok());
  buf.clear();
  EncodeSamples({{1, 300, 5}}, &buf);
  ASSERT_TRUE((*wal)->Log(buf).ok());
  ASSERT_TRUE((*wal)->Sync().ok());
  // Leftover of a crashed checkpoint: must be ignored and cleaned.
  ASSERT_TRUE(fs_->CreateDirs(io::JoinPath(dir_, "checkpoint.00000000.tmp")).ok());

  ASSERT_TRUE(Checkpoint(
                  fs_, dir_, 0, [](uint64_t ref) { return ref == 1; }, 150)
                  .ok());
  ASSERT_TRUE((*wal)->TruncateBefore(1).ok());
  EXPECT_FALSE(fs_->Exists(io::JoinPath(dir_, SegmentName(0))));
  EXPECT_FALSE(fs_->Exists(io::JoinPath(dir_, "checkpoint.00000000.tmp")));
  auto cp = LastCheckpoint(fs_, dir_);
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(cp->second, 0);

  std::vector<uint64_t> series;
  std::vector<std::pair<int64_t, double>> samples;
  ReplayHandler h;
  h.on_series = [&](std::vector<SeriesRecord>& s) {
    for (auto& r : s) series.push_back(r.ref);
    return absl::OkStatus();
  };
  h.on_samples = [&](std::vector<SampleRecord>& s) {
    for (auto& r : s) samples.emplace_back(r.t, r.v);
    return absl::OkStatus();
  };
  auto stats = Replay(fs_, dir_, h);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_FALSE(stats->tail_corrupted);
  EXPECT_EQ(series, (std::vector<uint64_t>{1}));
  EXPECT_EQ(samples, (std::vector<std::pair<int64_t, double>>{{200, 3}, {300, 5}}));
}

TEST_F(WalTest, ReplayReportsTornTailWithoutFailing) {
  {
    auto wal = Wal::Open(fs_, dir_);
    std::string buf;
    EncodeSamples({{1, 1, 1}}, &buf);
    ASSERT_TRUE((*wal)->Log(buf).ok());
    ASSERT_TRUE((*wal)->Log(buf).ok());
    ASSERT_TRUE((*wal)->Close().ok());
  }
  const std::string seg = io::JoinPath(dir_, SegmentName(0));
  uint64_t size = *fs_->FileSize(seg);
  ASSERT_TRUE(fs_->Truncate(seg, size - 3).ok());
  uint64_t n = 0;
  ReplayHandler h;
  h.on_samples = [&](std::vector<SampleRecord>& s) {
    n += s.size();
    return absl::OkStatus();
  };
  auto stats = Replay(fs_, dir_, h);
  ASSERT_TRUE(stats.ok());
  EXPECT_TRUE(stats->tail_corrupted);
  EXPECT_EQ(n, 1u);
  EXPECT_NE(stats->corruption.find("torn record"), std::string::npos) << stats->corruption;
}

}  // namespace
}  // namespace cairn::wal
