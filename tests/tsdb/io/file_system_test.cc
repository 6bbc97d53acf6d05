#include "tsdb/io/file_system.h"

#include <unistd.h>

#include "gtest/gtest.h"
#include "tsdb/io/fault_injection_file_system.h"

namespace cairn::io {
namespace {

class FileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cairn_io_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { ASSERT_TRUE(FileSystem::Default()->RemoveAll(dir_).ok()); }
  std::string dir_;
};

TEST_F(FileSystemTest, WriteAppendMapAndList) {
  FileSystem* fs = FileSystem::Default();
  std::string p = JoinPath(dir_, "a");
  {
    auto f = fs->NewWritableFile(p);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append("hello ").ok());
    ASSERT_TRUE((*f)->Close().ok());
  }
  {
    auto f = fs->NewAppendableFile(p);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ((*f)->Size(), 6u);
    ASSERT_TRUE((*f)->Append(std::string(100000, 'x')).ok());  // larger than the buffer
    ASSERT_TRUE((*f)->Sync().ok());
  }
  auto m = fs->MapFile(p);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)->data().size(), 100006u);
  EXPECT_EQ((*m)->data().substr(0, 7), "hello x");
  ASSERT_TRUE(fs->CreateDirs(JoinPath(dir_, "x/y/z")).ok());
  auto names = fs->ListDir(dir_);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "x"}));
  auto missing = fs->ReadFile(JoinPath(dir_, "nope"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nope"), absl::string_view::npos);
}

TEST_F(FileSystemTest, WriteFileAtomicallyLeavesNoTemp) {
  FileSystem* fs = FileSystem::Default();
  std::string p = JoinPath(dir_, "meta.json");
  ASSERT_TRUE(fs->WriteFileAtomically(p, "{}").ok());
  EXPECT_EQ(*fs->ReadFile(p), "{}");
  EXPECT_FALSE(fs->Exists(p + ".tmp"));
}

TEST_F(FileSystemTest, DirNameAndJoin) {
  EXPECT_EQ(DirName("a/b/c"), "a/b");
  EXPECT_EQ(DirName("c"), ".");
  EXPECT_EQ(DirName("/c"), "/");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
  EXPECT_EQ(JoinPath("a", "b", "c"), "a/b/c");
}

TEST_F(FileSystemTest, FaultInjectionDropsUnsyncedBytes) {
  FaultInjectionFileSystem fs(FileSystem::Default());
  std::string p = JoinPath(dir_, "wal");
  auto f = fs.NewWritableFile(p);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("durable").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE((*f)->Append("-lost").ok());
  ASSERT_TRUE((*f)->Flush().ok());
  EXPECT_EQ(*fs.FileSize(p), 12u);
  ASSERT_TRUE(fs.DropUnsyncedData().ok());
  EXPECT_EQ(*fs.ReadFile(p), "durable");
}

TEST_F(FileSystemTest, FaultInjectionDiskFullAndSyncFailure) {
  FaultInjectionFileSystem fs(FileSystem::Default());
  auto f = fs.NewWritableFile(JoinPath(dir_, "x"));
  ASSERT_TRUE(f.ok());
  fs.SetWriteBudget(4);
  EXPECT_TRUE((*f)->Append("abcd").ok());
  absl::Status full = (*f)->Append("e");
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  fs.SetWriteBudget(-1);
  EXPECT_TRUE((*f)->Append("e").ok());
  fs.SetFailSync(true);
  EXPECT_EQ((*f)->Sync().code(), absl::StatusCode::kUnavailable);
  fs.SetFailSync(false);
  EXPECT_TRUE((*f)->Sync().ok());
}

}  // namespace
}  // namespace cairn::io
