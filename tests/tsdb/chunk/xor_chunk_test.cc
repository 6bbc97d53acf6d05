#include "tsdb/chunk/xor_chunk.h"

#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "tests/tsdb/chunk/batch_decode_check.h"
#include "tsdb/model/sample.h"

namespace cairn {
namespace {

std::string Encode(const std::vector<Sample>& samples) {
  XorChunkEncoder enc;
  for (const Sample& s : samples) enc.Append(s.t, s.v);
  return std::string(enc.bytes());
}

std::vector<Sample> Decode(std::string_view bytes, absl::Status* status = nullptr) {
  XorChunkIterator it(bytes);
  std::vector<Sample> out;
  while (it.Next()) out.push_back({it.t(), it.v()});
  if (status != nullptr) *status = it.status();
  return out;
}

void ExpectRoundTrip(const std::vector<Sample>& samples) {
  absl::Status status;
  ExpectBatchesAgree<XorChunkIterator>(Encode(samples));
  std::vector<Sample> got = Decode(Encode(samples), &status);
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_EQ(got.size(), samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    ASSERT_EQ(got[i].t, samples[i].t) << i;
    ASSERT_EQ(std::bit_cast<uint64_t>(got[i].v), std::bit_cast<uint64_t>(samples[i].v)) << i;
  }
}

// The worked example of docs/format/chunks.md, derived by hand from the format.
TEST(XorChunkTest, DocumentedExampleBytes) {
  std::string got = Encode({{1000, 1.0}, {2000, 1.0}, {3000, 2.0}});
  const unsigned char want[] = {0x00, 0x03, 0xD0, 0x0F, 0x3F, 0xF0, 0x00, 0x00, 0x00,
                                0x00, 0x00, 0x00, 0xE8, 0x07, 0x30, 0x97, 0xFF, 0xC0};
  EXPECT_EQ(got, std::string(reinterpret_cast<const char*>(want), sizeof(want)));
}

TEST(XorChunkTest, EmptyAndSingle) {
  ExpectRoundTrip({});
  ExpectRoundTrip({{0, 0}});
  ExpectRoundTrip({{-5, -1.5}});
  XorChunkEncoder enc;
  EXPECT_EQ(enc.num_samples(), 0);
  EXPECT_EQ(enc.bytes().size(), 2u);
}

TEST(XorChunkTest, SpecialFloatBitPatterns) {
  const uint64_t patterns[] = {kStaleNaNBits,
                               kNormalNaNBits,
                               0x7ff8000000000000ULL,
                               0xfff8000000000000ULL,
                               0x7ff0000000000001ULL,
                               std::bit_cast<uint64_t>(std::numeric_limits<double>::infinity()),
                               std::bit_cast<uint64_t>(-std::numeric_limits<double>::infinity()),
                               std::bit_cast<uint64_t>(-0.0),
                               0,
                               1 /* smallest subnormal */,
                               0x000fffffffffffffULL,
                               std::bit_cast<uint64_t>(std::numeric_limits<double>::max()),
                               std::bit_cast<uint64_t>(std::numeric_limits<double>::lowest()),
                               0xffffffffffffffffULL};
  std::vector<Sample> s;
  int64_t t = 1000;
  for (uint64_t a : patterns) {
    for (uint64_t b : patterns) {
      s.push_back({t += 15000, std::bit_cast<double>(a)});
      s.push_back({t += 15000, std::bit_cast<double>(b)});
    }
  }
  for (size_t off = 0; off < s.size(); off += 100) {
    std::vector<Sample> part(s.begin() + off, s.begin() + std::min(s.size(), off + 120));
    ExpectRoundTrip(part);
  }
}

TEST(XorChunkTest, ExtremeTimestamps) {
  const int64_t mn = std::numeric_limits<int64_t>::min() / 4;
  const int64_t mx = std::numeric_limits<int64_t>::max() / 4;
  ExpectRoundTrip({{mn, 1}, {mn + 1, 2}, {0, 3}, {mx, 4}, {mx, 5}, {mx + 1000000000, 6}});
  ExpectRoundTrip({{-1000, 1}, {-1000, 1}, {-1000, 2}, {0, 3}});  // equal timestamps
  // Every dod bucket boundary.
  std::vector<Sample> s = {{0, 0}, {10, 0}};
  int64_t t = 10, delta = 10;
  for (int64_t dod : {0LL, 1LL, -1LL, 8191LL, 8192LL, -8191LL, -8192LL, 65536LL, -65535LL, 65537LL,
                      524288LL, -524287LL, 524289LL, -524288LL, 1LL << 40, -(1LL << 39)}) {
    delta += dod;
    if (delta < 0) delta = 0;
    t += delta;
    s.push_back({t, static_cast<double>(dod)});
  }
  ExpectRoundTrip(s);
}

// Property test: random realistic and adversarial series.
TEST(XorChunkTest, RandomRoundTrips) {
  std::mt19937_64 rng(42);
  for (int iter = 0; iter < 2000; ++iter) {
    std::vector<Sample> s;
    int n = 1 + static_cast<int>(rng() % 300);
    int64_t t = static_cast<int64_t>(rng() % 2000000000000ULL) - 1000000000000LL;
    double v = 0;
    int kind = iter % 5;
    for (int i = 0; i < n; ++i) {
      t += (kind == 4) ? static_cast<int64_t>(rng() % (1ULL << 40)) : 15000 + (rng() % 7) - 3;
      switch (kind) {
        case 0:  // counter with resets
          v = (rng() % 50 == 0) ? 0 : v + static_cast<double>(rng() % 1000);
          break;
        case 1:  // gauge with 2 decimals
          v = static_cast<double>(static_cast<int64_t>(rng() % 100000)) / 100.0;
          break;
        case 2:  // constant
          v = 42;
          break;
        default:  // arbitrary bits
          v = std::bit_cast<double>(rng());
      }
      s.push_back({t, v});
    }
    ExpectRoundTrip(s);
  }
}

TEST(XorChunkTest, BytesValidMidStream) {
  XorChunkEncoder enc;
  std::vector<Sample> s;
  for (int i = 0; i < 130; ++i) {
    s.push_back({i * 15000LL + (i % 3), i * 0.25});
    enc.Append(s.back().t, s.back().v);
    std::vector<Sample> got = Decode(enc.bytes());
    ASSERT_EQ(got, s) << "after " << i + 1 << " samples";
  }
}

TEST(XorChunkTest, SeekSemantics) {
  std::string b = Encode({{10, 1}, {20, 2}, {30, 3}});
  XorChunkIterator it(b);
  ASSERT_TRUE(it.Seek(5));
  EXPECT_EQ(it.t(), 10);
  ASSERT_TRUE(it.Seek(20));
  EXPECT_EQ(it.t(), 20);
  ASSERT_TRUE(it.Seek(15));  // never backwards
  EXPECT_EQ(it.t(), 20);
  ASSERT_TRUE(it.Seek(25));
  EXPECT_EQ(it.t(), 30);
  EXPECT_FALSE(it.Seek(31));
  EXPECT_FALSE(it.Next());
  EXPECT_TRUE(it.status().ok());
  it.Reset(b);  // reuse
  ASSERT_TRUE(it.Next());
  EXPECT_EQ(it.t(), 10);
}

TEST(XorChunkTest, TruncationIsDataLossNeverCrash) {
  std::vector<Sample> s;
  for (int i = 0; i < 120; ++i) s.push_back({i * 15000LL, std::sin(i) * 1000});
  std::string b = Encode(s);
  for (size_t n = 0; n < b.size(); ++n) {
    absl::Status status;
    ExpectBatchesAgree<XorChunkIterator>(std::string_view(b.data(), n));
    std::vector<Sample> got = Decode(std::string_view(b.data(), n), &status);
    ASSERT_FALSE(status.ok()) << "truncated to " << n << " bytes decoded cleanly";
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
    ASSERT_LE(got.size(), s.size());
    for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], s[i]);
  }
  EXPECT_FALSE(XorChunkNumSamples("x").ok());
}

// The longest samples (a 64-bit dod and a 64-bit window: up to 145 bits) read the
// furthest past their start; every truncation and every batch size puts one of them
// at the edge of NextBatch's unchecked loop. (Out-of-bounds reads show under ASan.)
TEST(XorChunkTest, LongestSamplesAtEveryEnd) {
  const uint64_t v = 0x3ff0000000000000ULL;
  std::vector<Sample> s = {{0, 0.5}, {1000, std::bit_cast<double>(v)}};
  int64_t t = 1000, delta = 1000;
  for (int i = 0; i < 40; ++i) {
    delta = (i % 2 == 0) ? delta + (int64_t{1} << 40) : 1;  // dod outside 20 bits
    t += delta;
    // XOR with the previous value has no leading or trailing zero: a 64-bit window.
    s.push_back({t, std::bit_cast<double>(i % 2 == 0 ? v ^ 0x8000000000000001ULL : v)});
  }
  const std::string b = Encode(s);
  ExpectRoundTrip(s);
  for (size_t n = 0; n < b.size(); ++n) {
    absl::Status status;
    std::string cut(b.data(), n);  // its own allocation, so ASan sees its end
    ExpectBatchesAgree<XorChunkIterator>(cut);
    std::vector<Sample> got = Decode(cut, &status);
    ASSERT_EQ(status.code(), absl::StatusCode::kDataLoss) << "truncated to " << n;
    for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], s[i]);
  }
}

TEST(XorChunkTest, FlippedBitsNeverCrash) {
  std::mt19937 rng(7);
  std::vector<Sample> s;
  for (int i = 0; i < 120; ++i) s.push_back({i * 15000LL, static_cast<double>(i % 7)});
  const std::string b = Encode(s);
  for (int iter = 0; iter < 5000; ++iter) {
    std::string c = b;
    c[rng() % c.size()] ^= static_cast<char>(1 << (rng() % 8));
    absl::Status status;
    ExpectBatchesAgree<XorChunkIterator>(c);
    std::vector<Sample> got = Decode(c, &status);
    EXPECT_LE(got.size(), 65535u);
  }
}

}  // namespace
}  // namespace cairn
