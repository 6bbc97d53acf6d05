#include "tsdb/util/coding.h"

#include <limits>
#include <random>

#include "gtest/gtest.h"

namespace cairn {
namespace {

TEST(CodingTest, VarintRoundTripsBoundaries) {
  const uint64_t values[] = {0,
                             1,
                             127,
                             128,
                             16383,
                             16384,
                             (1ULL << 32) - 1,
                             1ULL << 63,
                             std::numeric_limits<uint64_t>::max()};
  std::string buf;
  for (uint64_t v : values) PutVarint64(&buf, v);
  std::string_view in = buf;
  for (uint64_t want : values) {
    uint64_t got;
    ASSERT_TRUE(GetVarint64(&in, &got));
    EXPECT_EQ(got, want);
  }
  EXPECT_TRUE(in.empty());
}

TEST(CodingTest, SignedVarintRoundTrips) {
  std::mt19937_64 rng(7);
  std::string buf;
  std::vector<int64_t> vals = {0, -1, 1, std::numeric_limits<int64_t>::min(),
                               std::numeric_limits<int64_t>::max()};
  for (int i = 0; i < 1000; ++i) vals.push_back(static_cast<int64_t>(rng()));
  for (int64_t v : vals) PutSignedVarint64(&buf, v);
  std::string_view in = buf;
  for (int64_t want : vals) {
    int64_t got;
    ASSERT_TRUE(GetSignedVarint64(&in, &got));
    EXPECT_EQ(got, want);
  }
}

TEST(CodingTest, TruncatedVarintFails) {
  std::string buf;
  PutVarint64(&buf, 1ULL << 40);
  for (size_t n = 0; n < buf.size(); ++n) {
    std::string_view in(buf.data(), n);
    uint64_t v;
    EXPECT_FALSE(GetVarint64(&in, &v)) << n;
  }
}

TEST(CodingTest, OverlongVarintFails) {
  std::string buf(11, '\x80');
  std::string_view in = buf;
  uint64_t v;
  EXPECT_FALSE(GetVarint64(&in, &v));
  std::string ten(9, '\xff');
  ten.push_back('\x02');  // 10th byte may only be 0 or 1
  in = ten;
  EXPECT_FALSE(GetVarint64(&in, &v));
}

TEST(CodingTest, LengthPrefixedRejectsShortInput) {
  std::string buf;
  PutLengthPrefixed(&buf, "hello");
  buf.pop_back();
  std::string_view in = buf, s;
  EXPECT_FALSE(GetLengthPrefixed(&in, &s));
}

TEST(CodingTest, BigEndianLayout) {
  std::string buf;
  PutBigEndian32(&buf, 0x01020304);
  PutBigEndian64(&buf, 0x05060708090a0b0cULL);
  EXPECT_EQ(buf, std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c", 12));
  std::string_view in = buf;
  uint32_t a;
  uint64_t b;
  ASSERT_TRUE(GetBigEndian32(&in, &a));
  ASSERT_TRUE(GetBigEndian64(&in, &b));
  EXPECT_EQ(a, 0x01020304u);
  EXPECT_EQ(b, 0x05060708090a0b0cULL);
}

}  // namespace
}  // namespace cairn
