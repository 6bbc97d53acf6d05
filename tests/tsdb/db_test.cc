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

// Power loss: whatever was acknowledged was fsynced and survives dropping every
// unsynced byte.
TEST_F(DbTest, AcknowledgedWritesSurvivePowerLoss) {
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
    ASSERT_TRUE(fs.DropUnsyncedData().ok());  // the process and the page cache are gone
    // (the DB object is destroyed without a clean close below; its files are cut)
  }
  auto db = DB::Open(dir_, DbOptions{.background = false});
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ(ReadSeries(db->get(), "m").size(), 50u);
}

}  // namespace
}  // namespace cairn
