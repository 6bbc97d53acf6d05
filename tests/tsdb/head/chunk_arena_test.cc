#include "tsdb/head/chunk_arena.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "tsdb/head/head.h"
#include "tsdb/model/matcher.h"

namespace cairn::head {
namespace {

std::string TestDir(const std::string& name) {
  return ::testing::TempDir() + "/chunk_arena_" + name + "_" + std::to_string(getpid());
}

size_t FilesIn(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

TEST(ChunkArenaTest, StoresBytesRollsFilesAndReleasesOldOnes) {
  std::string dir = TestDir("roll");
  auto arena = ChunkArena::Open(dir, /*file_size=*/4096);
  ASSERT_TRUE(arena.ok()) << arena.status();
  std::vector<std::pair<const char*, std::string>> stored;
  for (int i = 0; i < 40; ++i) {
    std::string b(300, static_cast<char>('a' + i % 26));
    const char* p = (*arena)->Add(b, /*max_time=*/i * 100);
    ASSERT_NE(p, nullptr);
    stored.push_back({p, b});
  }
  for (const auto& [p, b] : stored) EXPECT_EQ(std::string_view(p, b.size()), b);
  // 13 chunks of 300 bytes per 4 KiB file.
  EXPECT_EQ((*arena)->num_files(), 4u);
  EXPECT_EQ(FilesIn(dir), 4u);
  // Files whose chunks all end before 1300 (the first holds max times 0..1200).
  (*arena)->ReleaseBefore(1300);
  EXPECT_EQ((*arena)->num_files(), 3u);
  EXPECT_EQ(FilesIn(dir), 3u);
  // The file being filled is never released.
  (*arena)->ReleaseBefore(INT64_MAX);
  EXPECT_EQ((*arena)->num_files(), 1u);
  EXPECT_EQ(std::string_view(stored.back().first, 300), stored.back().second);
  EXPECT_EQ((*arena)->Add(std::string(5000, 'x'), 0), nullptr);  // larger than a file
  arena->reset();
  std::filesystem::remove_all(dir);
}

TEST(ChunkArenaTest, OpenWipesLeftovers) {
  std::string dir = TestDir("wipe");
  std::filesystem::create_directories(dir);
  { std::ofstream(dir + "/00000007") << "stale"; }
  auto arena = ChunkArena::Open(dir);
  ASSERT_TRUE(arena.ok());
  EXPECT_EQ(FilesIn(dir), 0u);
  arena->reset();
  std::filesystem::remove_all(dir);
}

// A head with a chunk dir serves the same data and drops its files on truncation.
TEST(ChunkArenaTest, HeadKeepsClosedChunksInTheArena) {
  std::string dir = TestDir("head");
  HeadOptions o;
  o.chunk_dir = dir;
  auto h = Head::Open(io::FileSystem::Default(), "", o);
  ASSERT_TRUE(h.ok());
  auto app = (*h)->NewAppender();
  for (int i = 0; i < 1000; ++i) {
    for (int s = 0; s < 10; ++s) {
      ASSERT_TRUE(app->Append(0, Labels{{"__name__", "m"}, {"s", std::to_string(s)}}, i * 15000LL,
                              i * 2.0 + s)
                      .ok());
    }
  }
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(FilesIn(dir), 1u);
  // Closed chunk bytes are not on the heap any more: only the open chunk counts.
  EXPECT_LT((*h)->SeriesHeapBytes(), 10u * 1200);
  auto q = (*h)->NewQuerier(INT64_MIN, INT64_MAX);
  auto set = (*q)->Select(INT64_MIN, INT64_MAX, {*Matcher::Create(MatchType::kEqual, "s", "7")});
  ASSERT_TRUE(set->Next());
  auto it = set->At().Iterator();
  int n = 0;
  while (it->Next()) {
    ASSERT_EQ(it->t(), n * 15000LL);
    ASSERT_EQ(it->v(), n * 2.0 + 7);
    ++n;
  }
  EXPECT_EQ(n, 1000);
  ASSERT_TRUE((*h)->Truncate(INT64_MAX).ok());
  h->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cairn::head
