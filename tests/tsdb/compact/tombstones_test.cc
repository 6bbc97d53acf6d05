#include "tsdb/compact/tombstones.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tsdb/io/file_system.h"
#include "tsdb/model/sample.h"

namespace cairn::compact {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(AddIntervalTest, MergesOverlappingAndAdjacent) {
  Intervals ivs;
  AddInterval(&ivs, {10, 20});
  AddInterval(&ivs, {30, 40});
  EXPECT_THAT(ivs, ElementsAre(Interval{10, 20}, Interval{30, 40}));
  AddInterval(&ivs, {21, 21});  // touches the first
  EXPECT_THAT(ivs, ElementsAre(Interval{10, 21}, Interval{30, 40}));
  AddInterval(&ivs, {0, 5});  // before everything
  EXPECT_THAT(ivs, ElementsAre(Interval{0, 5}, Interval{10, 21}, Interval{30, 40}));
  AddInterval(&ivs, {50, 60});  // after everything
  AddInterval(&ivs, {15, 35});  // bridges two
  EXPECT_THAT(ivs, ElementsAre(Interval{0, 5}, Interval{10, 40}, Interval{50, 60}));
  AddInterval(&ivs, {-100, 100});  // swallows all
  EXPECT_THAT(ivs, ElementsAre(Interval{-100, 100}));
}

TEST(AddIntervalTest, ExtremesDoNotOverflow) {
  Intervals ivs;
  AddInterval(&ivs, {kMinTimeMs, -1});
  AddInterval(&ivs, {5, kMaxTimeMs});
  EXPECT_THAT(ivs, ElementsAre(Interval{kMinTimeMs, -1}, Interval{5, kMaxTimeMs}));
  AddInterval(&ivs, {0, 4});
  EXPECT_THAT(ivs, ElementsAre(Interval{kMinTimeMs, kMaxTimeMs}));
  AddInterval(&ivs, {7, 8});
  EXPECT_THAT(ivs, ElementsAre(Interval{kMinTimeMs, kMaxTimeMs}));
}

TEST(TombstoneSetTest, GetReturnsSortedMergedIntervals) {
  TombstoneSet set;
  set.Add(7, {100, 200});
  set.Add(7, {50, 60});
  set.Add(7, {150, 300});
  set.Add(3, {1, 1});
  set.Add(9, {5, 4});  // inverted: ignored
  EXPECT_THAT(set.Get(7), ElementsAre(Interval{50, 60}, Interval{100, 300}));
  EXPECT_THAT(set.Get(3), ElementsAre(Interval{1, 1}));
  EXPECT_TRUE(set.Get(9).empty());
  EXPECT_TRUE(set.Get(42).empty());
  EXPECT_EQ(set.num_series(), 2u);
  EXPECT_EQ(set.num_intervals(), 3u);
}

TombstoneSet Example() {
  TombstoneSet set;
  set.Add(1, {0, 10});
  set.Add(1, {20, 30});
  set.Add(1ull << 40, {-5000, -1});
  set.Add(99, {kMinTimeMs, kMaxTimeMs});
  return set;
}

TEST(TombstoneSetTest, RoundTrip) {
  const TombstoneSet set = Example();
  auto decoded = TombstoneSet::Decode(set.Encode(), "t");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, set);
  EXPECT_THAT(decoded->Get(1), ElementsAre(Interval{0, 10}, Interval{20, 30}));
  EXPECT_THAT(decoded->Get(99), ElementsAre(Interval{kMinTimeMs, kMaxTimeMs}));
}

TEST(TombstoneSetTest, EmptyRoundTripAndLayout) {
  const std::string data = TombstoneSet().Encode();
  // magic (4) + version (1) + series count 0 (1) + CRC (4).
  ASSERT_EQ(data.size(), 10u);
  EXPECT_EQ(data.substr(0, 5), std::string("\x01\x30\xBA\x30\x01", 5));
  EXPECT_EQ(data[5], '\0');
  auto decoded = TombstoneSet::Decode(data, "t");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(decoded->empty());
}

TEST(TombstoneSetTest, EntryLayoutMatchesDoc) {
  TombstoneSet set;
  set.Add(5, {-1, 2});
  const std::string data = set.Encode();
  // count 1, ref 5, 1 interval, zigzag(-1) = 1, zigzag(2) = 4.
  EXPECT_EQ(data.substr(5, data.size() - 9), std::string("\x01\x05\x01\x01\x04", 5));
}

TEST(TombstoneSetTest, EveryTruncationIsDataLoss) {
  const std::string data = Example().Encode();
  for (size_t n = 0; n < data.size(); ++n) {
    auto decoded = TombstoneSet::Decode(std::string_view(data).substr(0, n), "blk/tombstones");
    ASSERT_FALSE(decoded.ok()) << n;
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss) << n;
    EXPECT_THAT(std::string(decoded.status().message()), HasSubstr("blk/tombstones"));
  }
}

TEST(TombstoneSetTest, EveryFlippedByteIsDataLoss) {
  const std::string data = Example().Encode();
  for (size_t i = 0; i < data.size(); ++i) {
    for (int bit : {0, 7}) {
      std::string bad = data;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      auto decoded = TombstoneSet::Decode(bad, "blk/tombstones");
      ASSERT_FALSE(decoded.ok()) << i;
      EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss) << i;
    }
  }
}

TEST(TombstoneSetTest, UnknownVersionRefused) {
  std::string data = Example().Encode();
  data[4] = 2;
  auto decoded = TombstoneSet::Decode(data, "x");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(decoded.status().message()), HasSubstr("unsupported version 2"));
}

std::string TempDir(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string dir = io::JoinPath(base ? base : "/tmp",
                                 "cairn_compact_" + name + "_" + std::to_string(::getpid()));
  io::FileSystem::Default()->RemoveAll(dir).IgnoreError();
  EXPECT_TRUE(io::FileSystem::Default()->CreateDirs(dir).ok());
  return dir;
}

TEST(TombstoneFileTest, MissingFileIsEmptyAndWriteReads) {
  io::FileSystem* fs = io::FileSystem::Default();
  const std::string dir = TempDir("tfile");
  auto empty = ReadTombstones(fs, dir);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());
  ASSERT_TRUE(WriteTombstones(fs, dir, Example()).ok());
  auto read = ReadTombstones(fs, dir);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, Example());
  // A torn file on disk is reported, naming the file.
  ASSERT_TRUE(fs->Truncate(io::JoinPath(dir, "tombstones"), 7).ok());
  auto torn = ReadTombstones(fs, dir);
  ASSERT_FALSE(torn.ok());
  EXPECT_EQ(torn.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(torn.status().message()), HasSubstr(dir + "/tombstones"));
  fs->RemoveAll(dir).IgnoreError();
}

class VecIterator final : public SampleIterator {
 public:
  explicit VecIterator(std::vector<Sample> s) : s_(std::move(s)) {}
  bool Next() override { return ++i_ < s_.size(); }
  bool Seek(int64_t t) override {
    if (i_ == static_cast<size_t>(-1)) i_ = 0;
    while (i_ < s_.size() && s_[i_].t < t) ++i_;
    return i_ < s_.size();
  }
  int64_t t() const override { return s_[i_].t; }
  double v() const override { return s_[i_].v; }

 private:
  std::vector<Sample> s_;
  size_t i_ = static_cast<size_t>(-1);
};

std::vector<int64_t> Times(SampleIterator* it) {
  std::vector<int64_t> out;
  while (it->Next()) out.push_back(it->t());
  return out;
}

std::unique_ptr<SampleIterator> Range(int64_t from, int64_t to) {
  std::vector<Sample> s;
  for (int64_t t = from; t <= to; ++t) s.push_back({t, static_cast<double>(t) * 2});
  return std::make_unique<VecIterator>(std::move(s));
}

TEST(DeletedSamplesIteratorTest, SkipsDeletedRanges) {
  DeletedSamplesIterator it(Range(0, 20), {{0, 2}, {5, 5}, {10, 14}, {19, 100}});
  EXPECT_THAT(Times(&it), ElementsAre(3, 4, 6, 7, 8, 9, 15, 16, 17, 18));
}

TEST(DeletedSamplesIteratorTest, EverythingDeleted) {
  DeletedSamplesIterator it(Range(0, 20), {{kMinTimeMs, kMaxTimeMs}});
  EXPECT_FALSE(it.Next());
  EXPECT_TRUE(it.status().ok());
}

TEST(DeletedSamplesIteratorTest, SeekLandsAfterDeletedRange) {
  DeletedSamplesIterator it(Range(0, 20), {{5, 9}});
  ASSERT_TRUE(it.Seek(6));
  EXPECT_EQ(it.t(), 10);
  EXPECT_EQ(it.v(), 20.0);
  ASSERT_TRUE(it.Seek(3));  // never backwards
  EXPECT_EQ(it.t(), 10);
  ASSERT_TRUE(it.Next());
  EXPECT_EQ(it.t(), 11);
  EXPECT_FALSE(it.Seek(21));
}

TEST(DeletedSamplesIteratorTest, WithoutDeletedPassesThroughWhenEmpty) {
  auto it = WithoutDeleted(Range(0, 3), {});
  EXPECT_THAT(Times(it.get()), ElementsAre(0, 1, 2, 3));
}

}  // namespace
}  // namespace cairn::compact
