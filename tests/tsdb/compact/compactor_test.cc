#include "tsdb/compact/compactor.h"

#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/tsdb/storage/list_series.h"

namespace cairn::compact {
namespace {

using storage::testing::ListSeries;
using storage::testing::ListSeriesSet;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A stand-in block format: one line per sample ("labels t v") in file "samples",
// chunk sizes in "chunks", and "meta" written by Finish().
class TextBlockOutput final : public BlockOutput {
 public:
  TextBlockOutput(io::FileSystem* fs, std::string dir, bool fail_finish)
      : fs_(fs), dir_(std::move(dir)), fail_finish_(fail_finish) {}
  absl::Status AddSeries(const Labels& labels,
                         absl::Span<const std::vector<Sample>> chunks) override {
    for (const auto& c : chunks) {
      absl::StrAppend(&chunks_, c.size(), "\n");
      for (const Sample& s : c)
        absl::StrAppend(&samples_, labels.ToString(), " ", s.t, " ", s.v, "\n");
    }
    return absl::OkStatus();
  }
  absl::Status Finish(const std::string& ulid, const CompactionMeta& meta,
                      const CompactionStats& stats) override {
    if (fail_finish_) return absl::UnavailableError("fsync failed");
    std::string m = absl::StrCat(ulid, " ", meta.min_time_ms, " ", meta.max_time_ms, " ",
                                 meta.level, " ", stats.num_samples);
    for (const auto& s : meta.sources) absl::StrAppend(&m, " ", s);
    auto st = fs_->WriteFileAtomically(io::JoinPath(dir_, "samples"), samples_);
    if (!st.ok()) return st;
    st = fs_->WriteFileAtomically(io::JoinPath(dir_, "chunks"), chunks_);
    if (!st.ok()) return st;
    return fs_->WriteFileAtomically(io::JoinPath(dir_, "meta"), m);
  }

 private:
  io::FileSystem* fs_;
  std::string dir_;
  bool fail_finish_;
  std::string samples_, chunks_;
};

class TextFactory final : public BlockOutputFactory {
 public:
  explicit TextFactory(io::FileSystem* fs) : fs_(fs) {}
  absl::StatusOr<std::unique_ptr<BlockOutput>> Create(const std::string& dir) override {
    created_dirs.push_back(dir);
    return std::make_unique<TextBlockOutput>(fs_, dir, fail_finish);
  }
  std::vector<std::string> created_dirs;
  bool fail_finish = false;

 private:
  io::FileSystem* fs_;
};

Labels Series(int i) { return Labels{{"__name__", "m"}, {"i", std::to_string(i)}}; }

CompactionInput Input(std::string ulid, int level, int nseries, int64_t mint, int64_t maxt,
                      int64_t step = 10) {
  std::vector<ListSeries> series;
  for (int i = 0; i < nseries; ++i) {
    std::vector<Sample> s;
    for (int64_t t = mint; t < maxt; t += step) s.push_back({t, static_cast<double>(t + i)});
    series.emplace_back(Series(i), std::move(s));
  }
  CompactionInput in;
  in.meta = {std::move(ulid), mint, maxt, level, {}};
  in.series = std::make_unique<ListSeriesSet>(std::move(series));
  return in;
}

class CompactTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = std::getenv("TEST_TMPDIR");
    dir_ = io::JoinPath(base ? base : "/tmp", absl::StrCat("cairn_compactor_", ::getpid()));
    fs_->RemoveAll(dir_).IgnoreError();
    ASSERT_TRUE(fs_->CreateDirs(dir_).ok());
  }
  void TearDown() override { fs_->RemoveAll(dir_).IgnoreError(); }

  std::vector<std::string> ReadLines(const std::string& block, const std::string& file) {
    auto data = fs_->ReadFile(io::JoinPath(dir_, block, file));
    EXPECT_TRUE(data.ok()) << data.status();
    if (!data.ok()) return {};
    return absl::StrSplit(*data, '\n', absl::SkipEmpty());
  }

  io::FileSystem* fs_ = io::FileSystem::Default();
  std::string dir_;
};

TEST_F(CompactTest, ThreeAdjacentBlocksBecomeOne) {
  std::vector<CompactionInput> in;
  in.push_back(Input("A", 1, 2, 0, 2000));
  in.push_back(Input("B", 1, 2, 2000, 4000));
  in.push_back(Input("C", 1, 2, 4000, 6000));
  TextFactory factory(fs_);
  auto r = Compact(fs_, dir_, "NEW", std::move(in), &factory);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->dir, io::JoinPath(dir_, "NEW"));
  EXPECT_EQ((*r)->meta.level, 2);
  EXPECT_EQ((*r)->stats.num_samples, 2u * 600u);
  EXPECT_THAT(ReadLines("NEW", "meta"), ElementsAre("NEW 0 6000 2 1200 A B C"));
  const auto lines = ReadLines("NEW", "samples");
  ASSERT_EQ(lines.size(), 1200u);
  EXPECT_EQ(lines[0], absl::StrCat(Series(0).ToString(), " 0 0"));
  EXPECT_EQ(lines[599], absl::StrCat(Series(0).ToString(), " 5990 5990"));
  EXPECT_EQ(lines[600], absl::StrCat(Series(1).ToString(), " 0 1"));
  // 600 samples per series: five chunks of 120.
  EXPECT_EQ(ReadLines("NEW", "chunks"), std::vector<std::string>(10, "120"));
  // Only the final directory is left.
  auto entries = fs_->ListDir(dir_);
  ASSERT_TRUE(entries.ok());
  EXPECT_THAT(*entries, ElementsAre("NEW"));
}

TEST_F(CompactTest, OverlappingDuplicatesAndTombstones) {
  std::vector<CompactionInput> in;
  in.push_back(Input("A", 1, 1, 0, 100));
  in.push_back(Input("B", 1, 1, 50, 150));  // 50..90 duplicated
  in[1].deleted[Series(0)] = {{120, 129}};
  TextFactory factory(fs_);
  auto r = Compact(fs_, dir_, "NEW", std::move(in), &factory);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->has_value());
  std::vector<std::string> want;
  for (int64_t t = 0; t < 150; t += 10) {
    if (t == 120) continue;
    want.push_back(absl::StrCat(Series(0).ToString(), " ", t, " ", t));
  }
  EXPECT_EQ(ReadLines("NEW", "samples"), want);
}

TEST_F(CompactTest, EverythingDeletedWritesNoBlock) {
  std::vector<CompactionInput> in;
  in.push_back(Input("A", 1, 1, 0, 100));
  in[0].deleted[Series(0)] = {{0, 1000}};
  TextFactory factory(fs_);
  auto r = Compact(fs_, dir_, "NEW", std::move(in), &factory);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->has_value());
  auto entries = fs_->ListDir(dir_);
  ASSERT_TRUE(entries.ok());
  EXPECT_TRUE(entries->empty());
}

TEST_F(CompactTest, FailedWriteLeavesNothing) {
  std::vector<CompactionInput> in;
  in.push_back(Input("A", 1, 1, 0, 100));
  TextFactory factory(fs_);
  factory.fail_finish = true;
  auto r = Compact(fs_, dir_, "NEW", std::move(in), &factory);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("block NEW"));
  ASSERT_EQ(factory.created_dirs.size(), 1u);
  EXPECT_EQ(factory.created_dirs[0], io::JoinPath(dir_, "NEW.tmp-for-creation"));
  auto entries = fs_->ListDir(dir_);
  ASSERT_TRUE(entries.ok());
  EXPECT_TRUE(entries->empty());
}

TEST_F(CompactTest, NoInputsIsInvalid) {
  TextFactory factory(fs_);
  auto r = Compact(fs_, dir_, "NEW", {}, &factory);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cairn::compact
