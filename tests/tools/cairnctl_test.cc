// Runs the cairnctl binary (build/bin/cairnctl, located through CAIRN_BINARY_DIR set
// by ctest) against data written here.
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <string>

#include "gtest/gtest.h"
#include "tsdb/block/block_writer.h"
#include "tsdb/block/ulid.h"

namespace cairn {
namespace {

struct Result {
  int exit_code;
  std::string out;
};

Result RunCairnctl(const std::string& args) {
  const char* bin = getenv("CAIRN_BINARY_DIR");
  std::string cmd = std::string(bin ? bin : "build") + "/bin/cairnctl " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  Result r{-1, ""};
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

class CairnctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cairnctl_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { ASSERT_TRUE(fs_->RemoveAll(dir_).ok()); }

  std::string WriteBlock() {
    std::string ulid = block::NewUlid(1);
    std::string d = dir_ + "/" + ulid;
    auto w = block::BlockWriter::Create(fs_, d);
    EXPECT_TRUE(w.ok());
    std::vector<std::vector<Sample>> chunks = {{{1000, 1}, {2000, 2}, {3000, 3}}};
    EXPECT_TRUE((*w)->AddSeriesSamples(Labels{{"__name__", "up"}, {"job", "x"}}, chunks).ok());
    block::BlockMeta m;
    m.ulid = ulid;
    m.min_time = 1000;
    m.max_time = 3001;
    EXPECT_TRUE((*w)->Finish(m).ok());
    return d;
  }

  io::FileSystem* fs_ = io::FileSystem::Default();
  std::string dir_;
};

TEST_F(CairnctlTest, InspectBlocksReportsHealthyAndDamagedBlocks) {
  std::string good = WriteBlock();
  Result r = RunCairnctl("inspect blocks " + dir_);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("series=1 chunks=1 samples=3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" ok"), std::string::npos) << r.out;

  // Flip a byte inside the chunk data: the damage is named (file and checksum).
  std::string seg = good + "/chunks/000001";
  auto data = fs_->ReadFile(seg);
  ASSERT_TRUE(data.ok());
  std::string bad = *data;
  bad[12] ^= 0x01;
  auto f = fs_->NewWritableFile(seg);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append(bad).ok());
  ASSERT_TRUE((*f)->Close().ok());
  r = RunCairnctl("inspect blocks " + good);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("DAMAGED"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("chunks/000001"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("checksum"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace cairn
