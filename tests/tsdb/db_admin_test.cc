// DB::Delete, DB::CleanTombstones and DB::Snapshot: deletion in the head (WAL-logged)
// and in blocks (tombstones), across restarts and checkpoints; physical removal;
// snapshots that open as a DB.
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tsdb/block/block.h"
#include "tsdb/block/ulid.h"
#include "tsdb/compact/tombstones.h"
#include "tsdb/db.h"
#include "tsdb/model/matcher.h"
#include "tsdb/model/sample.h"

namespace cairn {
namespace {

constexpr int64_t kMinute = 60 * 1000;
constexpr int64_t kHour = 60 * kMinute;

Matcher Eq(const std::string& name, const std::string& value) {
  return *Matcher::Create(MatchType::kEqual, name, value);
}

class DbAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cairn_db_admin_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { ASSERT_TRUE(io::FileSystem::Default()->RemoveAll(dir_).ok()); }

  static DbOptions Options() {
    return DbOptions{.block_range_ms = kHour, .retention_ms = 0, .background = false};
  }
  std::unique_ptr<DB> Open(const std::string& dir) {
    auto db = DB::Open(dir, Options());
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? std::move(*db) : nullptr;
  }

  // One sample a minute for each of series m{s="a"}, m{s="b"}, other{} over [0, hours).
  static void Fill(DB* db, int hours) {
    auto app = db->NewAppender();
    for (int64_t t = 0; t < hours * kHour; t += kMinute) {
      ASSERT_TRUE(app->Append(0, {{"__name__", "m"}, {"s", "a"}}, t, 1).ok());
      ASSERT_TRUE(app->Append(0, {{"__name__", "m"}, {"s", "b"}}, t, 2).ok());
      ASSERT_TRUE(app->Append(0, {{"__name__", "other"}}, t, 3).ok());
    }
    ASSERT_TRUE(app->Commit().ok());
  }

  // Timestamps of the series selected by `matchers`, by series labels.
  static std::map<std::string, std::vector<int64_t>> Read(DB* db,
                                                          const std::vector<Matcher>& matchers) {
    std::map<std::string, std::vector<int64_t>> out;
    auto q = db->NewQuerier(kMinTimeMs, kMaxTimeMs);
    EXPECT_TRUE(q.ok()) << q.status();
    if (!q.ok()) return out;
    auto set = (*q)->Select(kMinTimeMs, kMaxTimeMs, matchers);
    while (set->Next()) {
      auto& ts = out[set->At().labels().ToString()];
      auto it = set->At().Iterator();
      while (it->Next()) ts.push_back(it->t());
      EXPECT_TRUE(it->status().ok()) << it->status();
    }
    EXPECT_TRUE(set->status().ok()) << set->status();
    return out;
  }
  static std::vector<int64_t> Times(DB* db, const std::string& s) {
    return Read(db,
                {Eq("__name__", "m"), Eq("s", s)})[absl::StrCat("{__name__=\"m\", s=\"", s, "\"}")];
  }
  static bool AnyIn(const std::vector<int64_t>& ts, int64_t mint, int64_t maxt) {
    for (int64_t t : ts) {
      if (t >= mint && t <= maxt) return true;
    }
    return false;
  }

  // Block directories under `dir`.
  static std::vector<std::string> BlockDirs(const std::string& dir) {
    std::vector<std::string> out;
    auto names = io::FileSystem::Default()->ListDir(dir);
    EXPECT_TRUE(names.ok());
    for (const std::string& n : *names) {
      if (block::IsUlid(n)) out.push_back(io::JoinPath(dir, n));
    }
    return out;
  }
  // Samples stored in the block files under `dir` (meta.json counts), tombstones ignored.
  static uint64_t StoredSamples(const std::string& dir) {
    uint64_t n = 0;
    for (const std::string& b : BlockDirs(dir)) {
      auto blk = block::Block::Open(io::FileSystem::Default(), b);
      EXPECT_TRUE(blk.ok()) << blk.status();
      if (blk.ok()) n += (*blk)->meta().num_samples;
    }
    return n;
  }
  static int TombstoneFiles(const std::string& dir) {
    int n = 0;
    for (const std::string& b : BlockDirs(dir)) {
      n += io::FileSystem::Default()->Exists(
          io::JoinPath(b, std::string(compact::kTombstonesFileName)));
    }
    return n;
  }

  std::string dir_;
};

TEST_F(DbAdminTest, DeleteInHeadHidesSamplesAtOnceAndAfterRestart) {
  auto db = Open(dir_);
  Fill(db.get(), 1);
  ASSERT_EQ(Times(db.get(), "a").size(), 60u);
  ASSERT_TRUE(db->Delete(10 * kMinute, 19 * kMinute, {Eq("s", "a")}).ok());
  std::vector<int64_t> a = Times(db.get(), "a");
  EXPECT_EQ(a.size(), 50u);
  EXPECT_FALSE(AnyIn(a, 10 * kMinute, 19 * kMinute));
  EXPECT_EQ(a[10], 20 * kMinute);
  EXPECT_EQ(Times(db.get(), "b").size(), 60u);  // not matched
  ASSERT_TRUE(db->Close().ok());
  db.reset();

  db = Open(dir_);
  a = Times(db.get(), "a");
  EXPECT_EQ(a.size(), 50u);
  EXPECT_FALSE(AnyIn(a, 10 * kMinute, 19 * kMinute));
  EXPECT_EQ(Times(db.get(), "b").size(), 60u);
  // Samples appended after the deletion are kept, in the head and after replay.
  auto app = db->NewAppender();
  ASSERT_TRUE(app->Append(0, {{"__name__", "m"}, {"s", "a"}}, 70 * kMinute, 9).ok());
  ASSERT_TRUE(app->Commit().ok());
  ASSERT_TRUE(db->Close().ok());
  db = Open(dir_);
  EXPECT_EQ(Times(db.get(), "a").size(), 51u);
}

TEST_F(DbAdminTest, DeletingAWholeSeriesInTheHeadDropsItFromSelect) {
  auto db = Open(dir_);
  Fill(db.get(), 1);
  ASSERT_TRUE(db->Delete(kMinTimeMs, kMaxTimeMs, {Eq("__name__", "m")}).ok());
  EXPECT_TRUE(Read(db.get(), {Eq("__name__", "m")}).empty());
  EXPECT_EQ(Read(db.get(), {Eq("__name__", "other")}).size(), 1u);
}

TEST_F(DbAdminTest, HeadDeletionSurvivesWalCheckpoint) {
  auto db = Open(dir_);
  Fill(db.get(), 4);
  // In the part of the head that stays after the cut below.
  ASSERT_TRUE(db->Delete(3 * kHour + 10 * kMinute, 3 * kHour + 19 * kMinute, {Eq("s", "a")}).ok());
  ASSERT_TRUE(db->Maintain().ok());  // cuts blocks, truncates the head, checkpoints the WAL
  ASSERT_GE(db->stats().blocks, 1u);
  ASSERT_TRUE(db->Close().ok());
  db = Open(dir_);
  std::vector<int64_t> a = Times(db.get(), "a");
  EXPECT_EQ(a.size(), 4u * 60 - 10);
  EXPECT_FALSE(AnyIn(a, 3 * kHour + 10 * kMinute, 3 * kHour + 19 * kMinute));
}

TEST_F(DbAdminTest, DeleteInBlocksWritesTombstonesThatQueriesApply) {
  auto db = Open(dir_);
  Fill(db.get(), 4);
  ASSERT_TRUE(db->Maintain().ok());
  ASSERT_GE(db->stats().blocks, 2u);
  const uint64_t stored = StoredSamples(dir_);
  // [30m, 1h30m] spans the first two blocks.
  ASSERT_TRUE(db->Delete(30 * kMinute, 90 * kMinute, {Eq("__name__", "m"), Eq("s", "a")}).ok());
  EXPECT_EQ(TombstoneFiles(dir_), 2);
  EXPECT_EQ(StoredSamples(dir_), stored);  // blocks untouched
  auto check = [&](DB* d) {
    std::vector<int64_t> a = Times(d, "a");
    EXPECT_EQ(a.size(), 4u * 60 - 61);
    EXPECT_FALSE(AnyIn(a, 30 * kMinute, 90 * kMinute));
    EXPECT_EQ(Times(d, "b").size(), 4u * 60);
  };
  check(db.get());
  ASSERT_TRUE(db->Close().ok());
  db = Open(dir_);
  check(db.get());

  // A series deleted wholly inside a block is not listed for that block's range.
  ASSERT_TRUE(db->Delete(0, kHour - 1, {Eq("s", "b")}).ok());
  auto q = db->NewQuerier(0, kHour - 1);
  ASSERT_TRUE(q.ok());
  auto set = (*q)->Select(0, kHour - 1, {Eq("__name__", "m")});
  std::vector<std::string> listed;
  while (set->Next()) listed.push_back(set->At().labels().ToString());
  ASSERT_TRUE(set->status().ok());
  EXPECT_EQ(listed, (std::vector<std::string>{"{__name__=\"m\", s=\"a\"}"}));
}

TEST_F(DbAdminTest, CleanTombstonesRemovesDeletedDataFromDisk) {
  auto db = Open(dir_);
  Fill(db.get(), 4);
  ASSERT_TRUE(db->Maintain().ok());
  const uint64_t stored = StoredSamples(dir_);
  ASSERT_GT(stored, 0u);
  ASSERT_TRUE(db->Delete(30 * kMinute, 90 * kMinute, {Eq("s", "a")}).ok());
  ASSERT_EQ(TombstoneFiles(dir_), 2);
  ASSERT_TRUE(db->CleanTombstones().ok());
  EXPECT_EQ(TombstoneFiles(dir_), 0);
  EXPECT_EQ(StoredSamples(dir_), stored - 61);
  std::vector<int64_t> a = Times(db.get(), "a");
  EXPECT_EQ(a.size(), 4u * 60 - 61);
  EXPECT_FALSE(AnyIn(a, 30 * kMinute, 90 * kMinute));
  ASSERT_TRUE(db->Close().ok());
  db = Open(dir_);
  EXPECT_EQ(Times(db.get(), "a").size(), 4u * 60 - 61);
  EXPECT_EQ(Times(db.get(), "b").size(), 4u * 60);
}

TEST_F(DbAdminTest, CleanTombstonesRemovesABlockWhoseDataIsAllDeleted) {
  auto db = Open(dir_);
  Fill(db.get(), 4);
  ASSERT_TRUE(db->Maintain().ok());
  const uint64_t blocks = db->stats().blocks;
  ASSERT_TRUE(db->Delete(0, kHour - 1, {Eq("__name__", "m")}).ok());
  ASSERT_TRUE(db->Delete(0, kHour - 1, {Eq("__name__", "other")}).ok());
  ASSERT_TRUE(db->CleanTombstones().ok());
  EXPECT_EQ(db->stats().blocks, blocks - 1);
  EXPECT_EQ(Times(db.get(), "a").front(), kHour);
}

// Background compaction (Maintain) applies tombstones too: merging blocks drops the
// deleted samples, and the tombstones go with the input blocks.
TEST_F(DbAdminTest, CompactionDropsDeletedSamples) {
  auto db = Open(dir_);
  Fill(db.get(), 4);
  ASSERT_TRUE(db->Maintain().ok());
  ASSERT_TRUE(db->Delete(30 * kMinute, 90 * kMinute, {Eq("s", "a")}).ok());
  ASSERT_GT(TombstoneFiles(dir_), 0);
  // Ten more hours: the blocks holding the deletion are merged into wider ones.
  auto app = db->NewAppender();
  for (int64_t t = 4 * kHour; t < 14 * kHour; t += kMinute) {
    ASSERT_TRUE(app->Append(0, {{"__name__", "m"}, {"s", "a"}}, t, 1).ok());
  }
  ASSERT_TRUE(app->Commit().ok());
  ASSERT_TRUE(db->Maintain().ok());
  EXPECT_EQ(TombstoneFiles(dir_), 0);
  // Read the block files directly, without any tombstones.
  uint64_t deleted_left = 0, kept = 0;
  for (const std::string& b : BlockDirs(dir_)) {
    auto blk = block::Block::Open(io::FileSystem::Default(), b);
    ASSERT_TRUE(blk.ok()) << blk.status();
    auto set = (*blk)->AllSeries();
    while (set->Next()) {
      if (set->At().labels().Get("s") != "a") continue;
      auto it = set->At().Iterator();
      while (it->Next()) {
        (it->t() >= 30 * kMinute && it->t() <= 90 * kMinute ? deleted_left : kept) += 1;
      }
    }
  }
  EXPECT_EQ(deleted_left, 0u);
  EXPECT_GE(kept, 4u * 60 - 61);
  std::vector<int64_t> a = Times(db.get(), "a");
  EXPECT_EQ(a.size(), 14u * 60 - 61);
  EXPECT_FALSE(AnyIn(a, 30 * kMinute, 90 * kMinute));
}

TEST_F(DbAdminTest, MatchersThatMatchTheEmptyStringSelectSeriesWithoutTheLabel) {
  auto db = Open(dir_);
  Fill(db.get(), 4);
  ASSERT_TRUE(db->Maintain().ok());
  // {s=""}: every series without label s, in blocks and head alike.
  ASSERT_TRUE(db->Delete(kMinTimeMs, kMaxTimeMs, {Eq("s", "")}).ok());
  EXPECT_TRUE(Read(db.get(), {Eq("__name__", "other")}).empty());
  EXPECT_EQ(Times(db.get(), "a").size(), 4u * 60);
}

TEST_F(DbAdminTest, SnapshotOpensAsADatabase) {
  auto db = Open(dir_);
  Fill(db.get(), 4);
  ASSERT_TRUE(db->Maintain().ok());
  ASSERT_GE(db->stats().blocks, 1u);
  ASSERT_TRUE(db->Delete(10 * kMinute, 19 * kMinute, {Eq("s", "a")}).ok());
  const std::string with_head = dir_ + "/snapshots/full";
  const std::string without_head = dir_ + "/snapshots/blocks";
  ASSERT_TRUE(db->Snapshot(with_head, true).ok());
  ASSERT_TRUE(db->Snapshot(without_head, false).ok());
  // Later changes to the DB do not reach the snapshots.
  ASSERT_TRUE(db->Delete(kMinTimeMs, kMaxTimeMs, {Eq("s", "b")}).ok());
  ASSERT_TRUE(db->CleanTombstones().ok());

  int64_t head_min = db->stats().head_min_time_ms;
  ASSERT_TRUE(db->Close().ok());
  db.reset();

  auto full = Open(with_head);
  ASSERT_NE(full, nullptr);
  EXPECT_EQ(Times(full.get(), "a").size(), 4u * 60 - 10);
  EXPECT_EQ(Times(full.get(), "b").size(), 4u * 60);
  EXPECT_EQ(full->stats().head_series, 0u);  // the head became a block
  ASSERT_TRUE(full->Close().ok());

  auto blocks = Open(without_head);
  ASSERT_NE(blocks, nullptr);
  std::vector<int64_t> b = Times(blocks.get(), "b");
  ASSERT_FALSE(b.empty());
  EXPECT_LT(b.back(), head_min);
  EXPECT_EQ(b.size(), static_cast<size_t>(head_min / kMinute));
}

}  // namespace
}  // namespace cairn
