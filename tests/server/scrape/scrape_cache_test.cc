// ScrapeCache: lookups by exact series bytes whatever the page order, entries
// stable until erased, erasure never leaving the page-order guess pointing at a
// freed entry.
#include "server/scrape/scrape_cache.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace cairn::scrape {
namespace {

using Entry = ScrapeCache::Entry;

// One page: Find each series, Insert the missing ones; returns the entries.
std::vector<Entry*> Page(ScrapeCache* cache, const std::vector<std::string>& series,
                         uint64_t iteration, int* inserted = nullptr) {
  std::vector<Entry*> out;
  cache->BeginPage();
  for (const std::string& s : series) {
    Entry* e = cache->Find(s);
    if (e == nullptr) {
      e = cache->Insert(s);
      if (inserted != nullptr) ++*inserted;
    }
    e->last_seen = iteration;
    out.push_back(e);
  }
  cache->EndPage();
  return out;
}

TEST(ScrapeCacheTest, FindsByExactBytesInAnyOrder) {
  ScrapeCache cache;
  int inserted = 0;
  // Keys longer than any small-string buffer, and one a prefix of another.
  const std::string a = "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"}";
  const std::string b = "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\",x=\"1\"}";
  const std::string c = "up";
  std::vector<Entry*> first = Page(&cache, {a, b, c}, 1, &inserted);
  EXPECT_EQ(inserted, 3);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(first[0]->key(), a);
  EXPECT_EQ(first[1]->key(), b);
  EXPECT_EQ(first[2]->key(), c);
  // Same page: every series found at its position, nothing inserted.
  inserted = 0;
  EXPECT_EQ(Page(&cache, {a, b, c}, 2, &inserted), first);
  EXPECT_EQ(inserted, 0);
  // Reordered, with a new series and a repeated one: found by hash.
  const std::string d = "d";
  std::vector<Entry*> third = Page(&cache, {c, d, a, a, b}, 3, &inserted);
  EXPECT_EQ(inserted, 1);
  EXPECT_EQ(third[0], first[2]);
  EXPECT_EQ(third[1]->key(), d);
  EXPECT_EQ(third[2], first[0]);
  EXPECT_EQ(third[3], first[0]);
  EXPECT_EQ(third[4], first[1]);
  // A series differing only in its last byte from the guess at its position.
  cache.BeginPage();
  EXPECT_EQ(cache.Find("node_cpu_seconds_total{cpu=\"0\",mode=\"idlf\"}"), nullptr);
  cache.EndPage();
}

TEST(ScrapeCacheTest, EraseKeepsOthersAndForgetsTheErased) {
  ScrapeCache cache;
  std::vector<Entry*> first = Page(&cache, {"a", "b", "c"}, 1);
  first[0]->ref = 11;
  Page(&cache, {"a", "c"}, 2);  // b not seen since iteration 1
  cache.EraseSeenBefore(2);
  EXPECT_EQ(cache.size(), 2u);
  // The last page's order may have held b: the same positions must not find it.
  int inserted = 0;
  std::vector<Entry*> again = Page(&cache, {"a", "b", "c"}, 3, &inserted);
  EXPECT_EQ(inserted, 1);
  EXPECT_EQ(again[0], first[0]);
  EXPECT_EQ(again[0]->ref, 11u);
  EXPECT_EQ(again[1]->key(), "b");
  EXPECT_EQ(again[2], first[2]);
}

}  // namespace
}  // namespace cairn::scrape
