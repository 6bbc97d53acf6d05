#include "tsdb/compact/deletion.h"

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tsdb/io/fault_injection_file_system.h"

namespace cairn::compact {
namespace {

using ::testing::ElementsAre;

std::string TempDir(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string dir = io::JoinPath(base ? base : "/tmp",
                                 "cairn_deletion_" + name + "_" + std::to_string(::getpid()));
  io::FileSystem::Default()->RemoveAll(dir).IgnoreError();
  EXPECT_TRUE(io::FileSystem::Default()->CreateDirs(dir).ok());
  return dir;
}

TEST(RecordDeletionTest, AccumulatesAcrossCalls) {
  io::FileSystem* fs = io::FileSystem::Default();
  const std::string dir = TempDir("acc");
  const std::vector<uint64_t> refs = {3, 9};
  auto set = RecordDeletion(fs, dir, refs, 100, 200);
  ASSERT_TRUE(set.ok()) << set.status();
  set = RecordDeletion(fs, dir, std::vector<uint64_t>{9}, 150, 400);
  ASSERT_TRUE(set.ok()) << set.status();
  auto on_disk = ReadTombstones(fs, dir);
  ASSERT_TRUE(on_disk.ok()) << on_disk.status();
  EXPECT_EQ(*on_disk, *set);
  EXPECT_THAT(on_disk->Get(3), ElementsAre(Interval{100, 200}));
  EXPECT_THAT(on_disk->Get(9), ElementsAre(Interval{100, 400}));
  fs->RemoveAll(dir).IgnoreError();
}

TEST(RecordDeletionTest, NothingToDeleteWritesNothing) {
  io::FileSystem* fs = io::FileSystem::Default();
  const std::string dir = TempDir("none");
  ASSERT_TRUE(RecordDeletion(fs, dir, {}, 0, 10).ok());
  ASSERT_TRUE(RecordDeletion(fs, dir, std::vector<uint64_t>{1}, 10, 0).ok());
  EXPECT_FALSE(fs->Exists(io::JoinPath(dir, "tombstones")));
  fs->RemoveAll(dir).IgnoreError();
}

TEST(RecordDeletionTest, FailedWriteKeepsOldFileIntact) {
  io::FileSystem* base = io::FileSystem::Default();
  const std::string dir = TempDir("fault");
  ASSERT_TRUE(RecordDeletion(base, dir, std::vector<uint64_t>{1}, 0, 10).ok());
  io::FaultInjectionFileSystem fs(base);
  fs.SetWriteBudget(3);  // the new file cannot be written
  auto failed = RecordDeletion(&fs, dir, std::vector<uint64_t>{2}, 0, 10);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kResourceExhausted);
  auto on_disk = ReadTombstones(base, dir);
  ASSERT_TRUE(on_disk.ok()) << on_disk.status();
  EXPECT_THAT(on_disk->Get(1), ElementsAre(Interval{0, 10}));
  EXPECT_TRUE(on_disk->Get(2).empty());
  base->RemoveAll(dir).IgnoreError();
}

TEST(RecordDeletionTest, CorruptExistingFileIsDataLossAndUntouched) {
  io::FileSystem* fs = io::FileSystem::Default();
  const std::string dir = TempDir("corrupt");
  const std::string path = io::JoinPath(dir, "tombstones");
  ASSERT_TRUE(fs->WriteFileAtomically(path, "garbage!garbage!").ok());
  auto r = RecordDeletion(fs, dir, std::vector<uint64_t>{1}, 0, 10);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  auto data = fs->ReadFile(path);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*data, "garbage!garbage!");
  fs->RemoveAll(dir).IgnoreError();
}

}  // namespace
}  // namespace cairn::compact
