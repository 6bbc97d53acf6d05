#include "tsdb/index/postings.h"

#include <algorithm>
#include <iterator>
#include <random>
#include <set>

#include "gtest/gtest.h"

namespace cairn::index {
namespace {

std::vector<uint64_t> Drain(Postings* p) {
  auto v = ExpandPostings(p);
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *v : std::vector<uint64_t>{};
}

TEST(PostingsTest, ListAndSeek) {
  std::vector<uint64_t> refs = {2, 4, 8, 16};
  auto p = ListPostings(&refs);
  ASSERT_TRUE(p->Seek(3));
  EXPECT_EQ(p->At(), 4u);
  ASSERT_TRUE(p->Seek(1));  // never goes backwards
  EXPECT_EQ(p->At(), 4u);
  ASSERT_TRUE(p->Next());
  EXPECT_EQ(p->At(), 8u);
  EXPECT_FALSE(p->Seek(17));
  EXPECT_FALSE(p->Next());
}

TEST(PostingsTest, BigEndian32) {
  std::string data = {0, 0, 0, 3, 0, 0, 1, 0, 0, 0, 1, 1};
  auto p = BigEndian32Postings(data);
  EXPECT_EQ(Drain(p.get()), (std::vector<uint64_t>{3, 256, 257}));
  auto q = BigEndian32Postings(data);
  ASSERT_TRUE(q->Seek(4));
  EXPECT_EQ(q->At(), 256u);
}

TEST(PostingsTest, IntersectMergeWithout) {
  std::vector<uint64_t> a = {1, 2, 3, 5, 8, 13}, b = {2, 3, 4, 5, 6, 13, 14}, c = {3, 5, 13};
  std::vector<std::unique_ptr<Postings>> its;
  its.push_back(ListPostings(&a));
  its.push_back(ListPostings(&b));
  its.push_back(ListPostings(&c));
  EXPECT_EQ(Drain(Intersect(std::move(its)).get()), (std::vector<uint64_t>{3, 5, 13}));

  its.clear();
  its.push_back(ListPostings(&a));
  its.push_back(ListPostings(&b));
  EXPECT_EQ(Drain(Merge(std::move(its)).get()),
            (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 8, 13, 14}));

  EXPECT_EQ(Drain(Without(ListPostings(&a), ListPostings(&b)).get()),
            (std::vector<uint64_t>{1, 8}));
  EXPECT_EQ(Drain(Intersect({}).get()), std::vector<uint64_t>{});
}

// Randomised against std::set algorithms, with Seek mixed into the iteration.
TEST(PostingsTest, RandomisedAgainstStdAlgorithms) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 200; ++round) {
    std::vector<std::vector<uint64_t>> lists(1 + rng() % 4);
    for (auto& l : lists) {
      std::set<uint64_t> s;
      int n = rng() % 50;
      for (int i = 0; i < n; ++i) s.insert(rng() % 100);
      l.assign(s.begin(), s.end());
    }
    std::vector<uint64_t> want_and = lists[0], want_or = lists[0], tmp;
    for (size_t i = 1; i < lists.size(); ++i) {
      tmp.clear();
      std::set_intersection(want_and.begin(), want_and.end(), lists[i].begin(), lists[i].end(),
                            std::back_inserter(tmp));
      want_and = tmp;
      tmp.clear();
      std::set_union(want_or.begin(), want_or.end(), lists[i].begin(), lists[i].end(),
                     std::back_inserter(tmp));
      want_or = tmp;
    }
    uint64_t seek_to = rng() % 100;
    auto check = [&](std::unique_ptr<Postings> p, const std::vector<uint64_t>& want) {
      auto first = std::lower_bound(want.begin(), want.end(), seek_to);
      bool any = p->Seek(seek_to);
      ASSERT_EQ(any, first != want.end());
      std::vector<uint64_t> got;
      if (any) {
        got.push_back(p->At());
        while (p->Next()) got.push_back(p->At());
      }
      EXPECT_EQ(got, std::vector<uint64_t>(first, want.end())) << "round " << round;
    };
    std::vector<std::unique_ptr<Postings>> its;
    for (auto& l : lists) its.push_back(ListPostings(&l));
    check(Intersect(std::move(its)), want_and);
    its.clear();
    for (auto& l : lists) its.push_back(ListPostings(&l));
    check(Merge(std::move(its)), want_or);
    if (lists.size() >= 2) {
      tmp.clear();
      std::set_difference(lists[0].begin(), lists[0].end(), lists[1].begin(), lists[1].end(),
                          std::back_inserter(tmp));
      check(Without(ListPostings(&lists[0]), ListPostings(&lists[1])), tmp);
    }
  }
}

}  // namespace
}  // namespace cairn::index
