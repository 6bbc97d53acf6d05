#include "tsdb/head/chunk_arena.h"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

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

// Mappings of files under `dir` in this process (deleted ones included). Matches the
// directory's own name: /proc shows the canonical path.
size_t MappingsOf(const std::string& dir) {
  const std::string needle = std::filesystem::path(dir).filename().string() + "/";
  std::ifstream maps("/proc/self/maps");
  size_t n = 0;
  for (std::string line; std::getline(maps, line);) n += line.find(needle) != std::string::npos;
  return n;
}

// A query reads closed chunks in place from the arena's mapped files. A truncation
// that releases those files while a SeriesSet is held must not unmap them under it:
// the set keeps them mapped (but deleted) until it goes. Without the pin the
// iteration below reads unmapped memory and crashes.
TEST(ChunkArenaTest, TruncationDoesNotUnmapChunksUnderAHeldSeriesSet) {
  std::string dir = TestDir("pin");
  HeadOptions o;
  o.chunk_dir = dir;
  o.chunk_file_size = 4096;  // a few dozen closed chunks per file
  auto h = Head::Open(io::FileSystem::Default(), "", o);
  ASSERT_TRUE(h.ok()) << h.status();
  const Labels old_series{{"__name__", "old"}};
  auto app = (*h)->NewAppender();
  // 2400 samples: 19 closed chunks of 120 samples in the arena, and the open one.
  for (int i = 0; i < 2400; ++i) {
    ASSERT_TRUE(app->Append(0, old_series, i * 1000LL, std::sin(i) * 1e6).ok());
  }
  ASSERT_TRUE(app->Commit().ok());
  // A later series fills more files, so the old ones are not the one being filled.
  for (int i = 0; i < 6000; ++i) {
    ASSERT_TRUE(app->Append(0, Labels{{"__name__", "new"}}, 10000000 + i * 1000LL, i).ok());
  }
  ASSERT_TRUE(app->Commit().ok());
  const size_t files_before = FilesIn(dir);
  ASSERT_GE(files_before, 3u);

  auto q = (*h)->NewQuerier(INT64_MIN, INT64_MAX);
  ASSERT_TRUE(q.ok());
  auto set =
      (*q)->Select(INT64_MIN, INT64_MAX, {*Matcher::Create(MatchType::kEqual, "__name__", "old")});
  // Drops every chunk of "old" (and the series), releasing the files holding them.
  ASSERT_TRUE((*h)->Truncate(9000000).ok());
  EXPECT_EQ((*h)->num_series(), 1u);
  EXPECT_LT(FilesIn(dir), files_before);  // deleted from the directory at once...
  const size_t held = MappingsOf(dir);
  // ...and new files come and go while the set is held.
  for (int i = 6000; i < 20000; ++i) {
    ASSERT_TRUE(app->Append(0, Labels{{"__name__", "new"}}, 10000000 + i * 1000LL, i).ok());
  }
  ASSERT_TRUE(app->Commit().ok());
  ASSERT_TRUE((*h)->Truncate(10000000 + 15000 * 1000LL).ok());

  ASSERT_TRUE(set->Next());
  EXPECT_EQ(set->At().labels(), old_series);
  auto it = set->At().Iterator();
  int n = 0;
  while (it->Next()) {
    ASSERT_EQ(it->t(), n * 1000LL) << n;
    ASSERT_EQ(it->v(), std::sin(n) * 1e6) << n;
    ++n;
  }
  EXPECT_TRUE(it->status().ok()) << it->status();
  EXPECT_EQ(n, 2400);
  EXPECT_FALSE(set->Next());
  // ...but only until the set and its iterator go.
  it.reset();
  set.reset();
  EXPECT_LT(MappingsOf(dir), held);
  h->reset();
  EXPECT_EQ(MappingsOf(dir), 0u);
  std::filesystem::remove_all(dir);
}

// Queries concurrent with appends and truncations that release arena files: every
// sample read is one that was written, in order, whatever was dropped meanwhile.
TEST(ChunkArenaTest, QueriesDuringAppendsAndTruncations) {
  std::string dir = TestDir("concurrent");
  HeadOptions o;
  o.chunk_dir = dir;
  o.chunk_file_size = 8192;
  auto h = Head::Open(io::FileSystem::Default(), "", o);
  ASSERT_TRUE(h.ok()) << h.status();
  Head* head = h->get();
  constexpr int kSeries = 20;
  constexpr int kRounds = 6000;
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::thread writer([&] {
    auto app = head->NewAppender();
    for (int r = 0; r < kRounds; ++r) {
      for (int s = 0; s < kSeries; ++s) {
        Labels ls{{"__name__", "m"}, {"s", std::to_string(s)}};
        if (!app->Append(0, ls, r * 1000LL, r * 10.0 + s).ok()) failures++;
      }
      if (!app->Commit().ok()) failures++;
      if (r % 500 == 499) {
        // Keeps the last ~1000 rounds; drops series-chunks and arena files before.
        if (!head->Truncate((r - 1000) * 1000LL).ok()) failures++;
      }
    }
    done = true;
  });
  std::vector<std::thread> readers;
  std::atomic<int64_t> samples_read{0};
  for (int th = 0; th < 2; ++th) {
    readers.emplace_back([&] {
      std::unique_ptr<SampleIterator> it;
      while (!done) {
        auto q = head->NewQuerier(INT64_MIN, INT64_MAX);
        if (!q.ok()) {
          failures++;
          return;
        }
        auto set = (*q)->Select(INT64_MIN, INT64_MAX,
                                {*Matcher::Create(MatchType::kEqual, "__name__", "m")});
        Labels prev;
        while (set->Next()) {
          const Labels& ls = set->At().labels();
          if (!prev.empty() && !(prev < ls)) failures++;  // sorted, no duplicates
          prev = ls;
          const int s = std::stoi(std::string(ls.Get("s")));
          it = set->At().Iterator(std::move(it));
          int64_t last = -1;
          while (it->Next()) {
            const int64_t r = it->t() / 1000;
            if (it->t() <= last || it->v() != r * 10.0 + s) failures++;
            last = it->t();
            samples_read++;
          }
          if (!it->status().ok()) failures++;
        }
        if (!set->status().ok()) failures++;
      }
    });
  }
  writer.join();
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(samples_read.load(), 0);
  h->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cairn::head
