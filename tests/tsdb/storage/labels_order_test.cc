#include "tsdb/storage/labels_order.h"

#include <algorithm>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace cairn::storage {
namespace {

std::vector<uint32_t> ReferenceOrder(const std::vector<Labels>& ls) {
  std::vector<uint32_t> order(ls.size());
  for (size_t i = 0; i < ls.size(); ++i) order[i] = static_cast<uint32_t>(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return Labels::Compare(ls[a], ls[b]) < 0; });
  return order;
}

std::vector<uint32_t> Order(const std::vector<Labels>& ls) {
  std::vector<const Labels*> ptrs;
  for (const Labels& l : ls) ptrs.push_back(&l);
  return LabelsSortOrder(ptrs);
}

TEST(LabelsOrderTest, EdgeCasesSortAsLabelsCompare) {
  std::vector<Labels> ls = {
      Labels{{"__name__", "m"}, {"a", "x"}},
      Labels{{"__name__", "m"}},
      Labels{{"__name__", "m"}, {"a", "x"}, {"b", "1"}},
      Labels{{"__name__", "m"}, {"aa", "x"}},
      Labels{{"__name__", "m"}, {"a", "xy"}},
      Labels{{"__name__", "m"}, {"b", "a"}},
      Labels{{"__name__", "m"}, {"a", std::string("x\0", 2)}},
      Labels{{"__name__", "m"}, {"a", std::string("x\x01", 2)}},
      Labels{{"__name__", "m"}, {"a", std::string("x\x02", 2)}},
      Labels{{"__name__", "m"}, {"a", "x\xff"}},
      Labels{{"__name__", "m"}, {"a", "x"}},  // a duplicate keeps its place after the first
      Labels{{"__name__", "n"}},
      Labels{{"__name__", "m"}, {"a", "host-10:9100"}},
      Labels{{"__name__", "m"}, {"a", "host-1:9100"}},
      Labels{{"__name__", "m"}, {"a", "host-100:9100"}},
      Labels{{"__name__", "m"}, {"a", "host-100:9100"}, {"b", "y"}},
  };
  // A hand-checked anchor besides the comparison with Labels::Compare: "x" < "x\0" <
  // "x\1" < "x\2" < "x\xff" < "xy", and {a="x"} < {a="x", b="1"} < {aa=...}.
  std::vector<uint32_t> got = Order(ls);
  EXPECT_EQ(got, ReferenceOrder(ls));
  ASSERT_EQ(got.size(), ls.size());
  EXPECT_EQ(got[0], 1u);       // {__name__="m"}
  EXPECT_EQ(got.back(), 11u);  // {__name__="n"}
}

TEST(LabelsOrderTest, RandomSetsSortAsLabelsCompare) {
  std::mt19937 rng(42);
  const char alphabet[] = {'\0', '\x01', '\x02', 'a', 'b', '\x7f', '\x80', '\xff'};
  for (int round = 0; round < 50; ++round) {
    std::vector<Labels> ls;
    const int n = 1 + static_cast<int>(rng() % 300);
    for (int i = 0; i < n; ++i) {
      std::vector<std::pair<std::string, std::string>> pairs;
      pairs.emplace_back("__name__", "metric");  // a long shared prefix
      const int labels = static_cast<int>(rng() % 4);
      for (int l = 0; l < labels; ++l) {
        std::string name(1, static_cast<char>('a' + rng() % 3));
        std::string value;
        const int len = 1 + static_cast<int>(rng() % 12);
        for (int k = 0; k < len; ++k) value.push_back(alphabet[rng() % sizeof(alphabet)]);
        pairs.emplace_back(std::move(name), std::move(value));
      }
      ls.push_back(Labels::FromPairs(std::move(pairs)));
    }
    ASSERT_EQ(Order(ls), ReferenceOrder(ls)) << "round " << round;
  }
}

TEST(LabelsOrderTest, EmptyAndSingle) {
  EXPECT_TRUE(LabelsSortOrder({}).empty());
  Labels one{{"a", "b"}};
  EXPECT_EQ(LabelsSortOrder({&one}), std::vector<uint32_t>{0});
}

}  // namespace
}  // namespace cairn::storage
