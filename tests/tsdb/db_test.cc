#include "tsdb/db.h"

#include <unistd.h>

#include "gtest/gtest.h"
#include "tsdb/io/fault_injection_file_system.h"
#include "tsdb/model/matcher.h"
#include "tsdb/model/sample.h"

namespace cairn {
namespace {

class DbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cairn_db_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { ASSERT_TRUE(io::FileSystem::Default()->RemoveAll(dir_).ok()); }

  static std::vector<Sample> ReadSeries(DB* db, const std::string& name) {
    auto q = db->NewQuerier(kMinTimeMs, kMaxTimeMs);
    EXPECT_TRUE(q.ok());
    auto m = Matcher::Create(MatchType::kEqual, "__name__", name);
    auto set = (*q)->Select(kMinTimeMs, kMaxTimeMs, {*m});
    std::vector<Sample> out;
    while (set->Next()) {
      auto it = set->At().Iterator();
      while (it->Next()) out.push_back({it->t(), it->v()});
      EXPECT_TRUE(it->status().ok());
    }
    EXPECT_TRUE(set->status().ok()) << set->status();
    return out;
  }

  std::string dir_;
};

TEST_F(DbTest, AppendQueryReopen) {
  Labels ls = {{"__name__", "m"}, {"job", "a"}};
  {
    auto db = DB::Open(dir_, DbOptions{.background = false});
    ASSERT_TRUE(db.ok()) << db.status();
    auto app = (*db)->NewAppender();
    for (int i = 0; i < 300; ++i) ASSERT_TRUE(app->Append(0, ls, i * 15000, i).ok());
    ASSERT_TRUE(app->Commit().ok());
    EXPECT_EQ(ReadSeries(db->get(), "m").size(), 300u);
    ASSERT_TRUE((*db)->Close().ok());
  }
  auto db = DB::Open(dir_, DbOptions{.background = false});
  ASSERT_TRUE(db.ok());
  std::vector<Sample> got = ReadSeries(db->get(), "m");
  ASSERT_EQ(got.size(), 300u);
  EXPECT_EQ(got[299], (Sample{299 * 15000, 299}));
  EXPECT_EQ((*db)->stats().head_series, 1u);
}

// Disk full: the commit fails with a clear error, reads keep working, nothing
// already stored is lost, and once space is back ingestion resumes.
TEST_F(DbTest, DiskFullFailsWritesKeepsReadsAndRecovers) {
  io::FaultInjectionFileSystem fs(io::FileSystem::Default());
  Labels ls = {{"__name__", "m"}};
  {
    auto db = DB::Open(dir_, DbOptions{.fs = &fs, .background = false});
    ASSERT_TRUE(db.ok());
    auto app = (*db)->NewAppender();
    ASSERT_TRUE(app->Append(0, ls, 1000, 1).ok());
    ASSERT_TRUE(app->Commit().ok());

    fs.SetWriteBudget(0);
    ASSERT_TRUE(app->Append(0, ls, 2000, 2).ok());
    absl::Status full = app->Commit();
    EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted) << full;
    EXPECT_NE(full.message().find("no space left on device"), absl::string_view::npos) << full;
    // Reads keep working and show only the durable sample.
    EXPECT_EQ(ReadSeries(db->get(), "m"), (std::vector<Sample>{{1000, 1}}));

    fs.SetWriteBudget(-1);
    ASSERT_TRUE(app->Append(0, ls, 3000, 3).ok());
    ASSERT_TRUE(app->Commit().ok());
    EXPECT_EQ(ReadSeries(db->get(), "m"), (std::vector<Sample>{{1000, 1}, {3000, 3}}));
    ASSERT_TRUE((*db)->Close().ok());
  }
  auto db = DB::Open(dir_, DbOptions{.background = false});
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ(ReadSeries(db->get(), "m"), (std::vector<Sample>{{1000, 1}, {3000, 3}}));
}

// A disk that fills in the middle of a WAL record leaves a torn record; writes after
// space returns go to a new segment, and on reopen every acknowledged sample —
// before and after the failure — is there, and the failed one is not.
TEST_F(DbTest, TornWriteOnFullDiskLosesNothingAcknowledged) {
  io::FaultInjectionFileSystem fs(io::FileSystem::Default());
  Labels ls = {{"__name__", "m"}};
  {
    auto db = DB::Open(dir_, DbOptions{.fs = &fs, .background = false});
    ASSERT_TRUE(db.ok());
    auto app = (*db)->NewAppender();
    ASSERT_TRUE(app->Append(0, ls, 1000, 1).ok());
    ASSERT_TRUE(app->Commit().ok());
    fs.SetWriteBudget(7);  // part of the next record fits
    ASSERT_TRUE(app->Append(0, ls, 2000, 2).ok());
    EXPECT_FALSE(app->Commit().ok());
    fs.SetWriteBudget(-1);
    ASSERT_TRUE(app->Append(0, ls, 3000, 3).ok());
    ASSERT_TRUE(app->Commit().ok());
    ASSERT_TRUE(app->Append(0, ls, 4000, 4).ok());
    ASSERT_TRUE(app->Commit().ok());
    ASSERT_TRUE((*db)->Close().ok());
  }
  auto db = DB::Open(dir_, DbOptions{.background = false});
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ(ReadSeries(db->get(), "m"), (std::vector<Sample>{{1000, 1}, {3000, 3}, {4000, 4}}));
}

// Power loss with wal_fsync_on_commit: whatever was acknowledged was fsynced and
// survives dropping every unsynced byte.
TEST_F(DbTest, AcknowledgedWritesSurvivePowerLossWithFsyncOnCommit) {
  io::FaultInjectionFileSystem fs(io::FileSystem::Default());
  Labels ls = {{"__name__", "m"}};
  {
    auto db =
        DB::Open(dir_, DbOptions{.fs = &fs, .background = false, .wal_fsync_on_commit = true});
    ASSERT_TRUE(db.ok());
    auto app = (*db)->NewAppender();
    for (int i = 1; i <= 50; ++i) {
      ASSERT_TRUE(app->Append(0, ls, i * 1000, i).ok());
      ASSERT_TRUE(app->Commit().ok());
    }
    ASSERT_TRUE(fs.DropUnsyncedData().ok());  // the process and the page cache are gone
    // (the DB object is destroyed without a clean close below; its files are cut)
  }
  auto db = DB::Open(dir_, DbOptions{.background = false});
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ(ReadSeries(db->get(), "m").size(), 50u);
}

// By default commits reach the WAL file but not the disk: a power loss right after
// loses them, and the background WAL sync (here Maintain) makes them durable.
TEST_F(DbTest, DefaultCommitsAreDurableAfterTheWalSync) {
  io::FaultInjectionFileSystem fs(io::FileSystem::Default());
  Labels ls = {{"__name__", "m"}};
  {
    auto db = DB::Open(dir_, DbOptions{.fs = &fs, .background = false});
    ASSERT_TRUE(db.ok());
    auto app = (*db)->NewAppender();
    for (int i = 1; i <= 50; ++i) {
      ASSERT_TRUE(app->Append(0, ls, i * 1000, i).ok());
      ASSERT_TRUE(app->Commit().ok());
    }
    ASSERT_TRUE((*db)->Maintain().ok());  // the background thread's WAL sync
    for (int i = 51; i <= 60; ++i) {
      ASSERT_TRUE(app->Append(0, ls, i * 1000, i).ok());
      ASSERT_TRUE(app->Commit().ok());
    }
    ASSERT_TRUE(fs.DropUnsyncedData().ok());  // power loss before the next sync
  }
  auto db = DB::Open(dir_, DbOptions{.background = false});
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ(ReadSeries(db->get(), "m").size(), 50u);
}

constexpr int64_t kHour = 3600 * 1000;

// Appends `n` series m{i="<k>"} with one sample per 15 s in [from, to).
void Fill(DB* db, int n, int64_t from, int64_t to) {
  auto app = db->NewAppender();
  for (int64_t t = from; t < to; t += 15000) {
    for (int k = 0; k < n; ++k) {
      Labels ls = {{"__name__", "m"}, {"i", std::to_string(k)}};
      ASSERT_TRUE(app->Append(0, ls, t, static_cast<double>(t / 1000 + k)).ok()) << t;
    }
  }
  ASSERT_TRUE(app->Commit().ok());
}

std::vector<std::string> BlockDirs(const std::string& dir) {
  std::vector<std::string> out;
  auto names = io::FileSystem::Default()->ListDir(dir);
  for (const auto& n : *names) {
    if (n.size() == 26) out.push_back(n);
  }
  return out;
}

// The head is cut into 2 h blocks while it spans more than 3 h; the data stays queryable across
// head and blocks, the WAL is truncated, and a restart reads the blocks back without
// replaying their samples into the head again.
TEST_F(DbTest, HeadIsCutIntoBlocksAndSurvivesRestart) {
  DbOptions o{.background = false};
  o.retention_ms = 0;
  {
    auto db = DB::Open(dir_, o);
    ASSERT_TRUE(db.ok());
    Fill(db->get(), 5, 0, 5 * kHour);
    ASSERT_TRUE((*db)->Maintain().ok());
    DbStats st = (*db)->stats();
    EXPECT_EQ(st.blocks, 1u);  // [0,2h); the head keeps [2h,5h), less than 3 h
    EXPECT_EQ(st.head_min_time_ms, 2 * kHour);
    std::vector<Sample> got = ReadSeries(db->get(), "m");
    EXPECT_EQ(got.size(), 5u * 5 * 240);
    // Samples older than the cut are refused now.
    auto app = (*db)->NewAppender();
    EXPECT_FALSE(app->Append(0, Labels{{"__name__", "m"}, {"i", "0"}}, kHour, 1).ok());
    ASSERT_TRUE((*db)->Close().ok());
  }
  EXPECT_EQ(BlockDirs(dir_).size(), 1u);
  auto db = DB::Open(dir_, o);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ((*db)->stats().blocks, 1u);
  std::vector<Sample> got = ReadSeries(db->get(), "m");
  ASSERT_EQ(got.size(), 5u * 5 * 240);  // no duplicates from the WAL
  // Per series the samples are complete and ordered.
  auto q = (*db)->NewQuerier(kMinTimeMs, kMaxTimeMs);
  auto set = (*q)->Select(kMinTimeMs, kMaxTimeMs, {*Matcher::Create(MatchType::kEqual, "i", "3")});
  ASSERT_TRUE(set->Next());
  auto it = set->At().Iterator();
  int64_t want_t = 0;
  while (it->Next()) {
    ASSERT_EQ(it->t(), want_t);
    ASSERT_EQ(it->v(), static_cast<double>(want_t / 1000 + 3));
    want_t += 15000;
  }
  EXPECT_EQ(want_t, 5 * kHour);
}

// Level-1 blocks are compacted 3 at a time into a 6 h block, and retention deletes
// blocks that end before the newest data minus the retention time.
TEST_F(DbTest, CompactionAndRetention) {
  DbOptions o{.background = false};
  o.retention_ms = 0;
  auto db = DB::Open(dir_, o);
  ASSERT_TRUE(db.ok());
  for (int h = 0; h < 16; h += 2) {
    Fill(db->get(), 3, h * kHour, (h + 2) * kHour);
    ASSERT_TRUE((*db)->Maintain().ok());
  }
  DbStats st = (*db)->stats();
  EXPECT_GE(st.compactions, 1u);
  EXPECT_EQ(ReadSeries(db->get(), "m").size(), 3u * 16 * 240);
  ASSERT_TRUE((*db)->Close().ok());

  // Reopen with a 4 h retention: only blocks overlapping the last 4 h survive.
  o.retention_ms = 4 * kHour;
  auto db2 = DB::Open(dir_, o);
  ASSERT_TRUE(db2.ok());
  ASSERT_TRUE((*db2)->Maintain().ok());
  EXPECT_GE((*db2)->stats().blocks_deleted_by_retention, 1u);
  std::vector<Sample> got = ReadSeries(db2->get(), "m");
  ASSERT_FALSE(got.empty());
  EXPECT_LT(got.size(), 3u * 16 * 240);
  for (const Sample& s : got) EXPECT_GE(s.t, 6 * kHour);  // at most one 6 h block older
}

// A damaged block is reported and skipped; the rest is served. Leftover temporary
// directories are removed at start-up.
TEST_F(DbTest, CorruptBlockIsSkippedAndLeftoversRemoved) {
  DbOptions o{.background = false};
  o.retention_ms = 0;
  {
    auto db = DB::Open(dir_, o);
    ASSERT_TRUE(db.ok());
    Fill(db->get(), 2, 0, 7 * kHour);
    ASSERT_TRUE((*db)->Maintain().ok());
    ASSERT_EQ((*db)->stats().blocks, 2u);
    ASSERT_TRUE((*db)->Close().ok());
  }
  auto dirs = BlockDirs(dir_);
  ASSERT_EQ(dirs.size(), 2u);
  std::sort(dirs.begin(), dirs.end());
  // Damage the first block's index header.
  std::string index = dir_ + "/" + dirs[0] + "/index";
  ASSERT_TRUE(io::FileSystem::Default()->Truncate(index, 3).ok());
  ASSERT_TRUE(io::FileSystem::Default()
                  ->CreateDirs(dir_ + "/01AAAAAAAAAAAAAAAAAAAAAAAA.tmp-for-creation")
                  .ok());
  auto db = DB::Open(dir_, o);
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ((*db)->stats().blocks, 1u);
  EXPECT_EQ((*db)->stats().corrupt_blocks_skipped, 1u);
  EXPECT_FALSE(
      io::FileSystem::Default()->Exists(dir_ + "/01AAAAAAAAAAAAAAAAAAAAAAAA.tmp-for-creation"));
  EXPECT_FALSE(ReadSeries(db->get(), "m").empty());
}

}  // namespace
}  // namespace cairn
