#include "tsdb/chunk/packed_chunk.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "gtest/gtest.h"
#include "tests/tsdb/chunk/batch_decode_check.h"
#include "tsdb/chunk/xor_chunk.h"

namespace cairn {
namespace {

std::vector<Sample> Decode(std::string_view bytes, absl::Status* status = nullptr) {
  PackedChunkIterator it(bytes);
  std::vector<Sample> out;
  while (it.Next()) out.push_back({it.t(), it.v()});
  if (status != nullptr) *status = it.status();
  return out;
}

void ExpectRoundTrip(const std::vector<Sample>& in) {
  auto enc = EncodePackedChunk(in);
  ASSERT_TRUE(enc.has_value());
  absl::Status st;
  ExpectBatchesAgree<PackedChunkIterator>(*enc);
  std::vector<Sample> out = Decode(*enc, &st);
  ASSERT_TRUE(st.ok()) << st;
  ASSERT_EQ(out, in);  // Sample== compares value bits
}

TEST(PackedChunkTest, RoundTripsDecimalsIntegersAndEdgeTimestamps) {
  ExpectRoundTrip({{0, 1}});
  ExpectRoundTrip({{-5, 0.1}, {7, 0.2}});
  ExpectRoundTrip({{1000, 12.75}, {16000, 12.5}, {31000, 13.125}, {46000, -0.001}});
  ExpectRoundTrip({{INT64_MIN, 0}, {0, 1}, {INT64_MAX, 2}});  // wrapping deltas
  ExpectRoundTrip({{1, 9007199254740991.0}, {2, -9007199254740991.0}, {3, 0}});
  ExpectRoundTrip({{1, 123456.789}, {2, 0.000000001}});
  // 17 significant digits cannot be scaled below 2^53.
  EXPECT_FALSE(EncodePackedChunk(std::vector<Sample>{{1, 123456789.123456789}}).has_value());
}

// The worked example of docs/format/chunks.md, derived by hand there.
TEST(PackedChunkTest, DocumentedExampleBytes) {
  auto enc = EncodePackedChunk(std::vector<Sample>{{1000, 1.5}, {2000, 2.5}, {3000, 2.5}});
  ASSERT_TRUE(enc.has_value());
  const std::string want = {0x00,   0x03, '\xD0', 0x0F, 0x1E,   0x01,
                            '\xE8', 0x07, 0x00,   0x05, '\xA0', 0x00};
  EXPECT_EQ(*enc, want);
}

TEST(PackedChunkTest, RefusesValuesItCannotRepresentExactly) {
  const double kNaN = std::numeric_limits<double>::quiet_NaN();
  uint64_t stale_bits = 0x7ff0000000000002ULL;
  double stale;
  std::memcpy(&stale, &stale_bits, 8);
  for (double bad : {kNaN, stale, std::numeric_limits<double>::infinity(), -0.0, 0.1 + 0.2, 1.0 / 3,
                     1e300, 5e-324}) {
    EXPECT_FALSE(EncodePackedChunk(std::vector<Sample>{{1, 1}, {2, bad}}).has_value()) << bad;
  }
}

// Randomised: realistic series round-trip and are much smaller than XOR.
TEST(PackedChunkTest, RandomSeriesRoundTripAndBeatXor) {
  std::mt19937_64 rng(7);
  size_t packed_bytes = 0, xor_bytes = 0;
  for (int round = 0; round < 300; ++round) {
    std::vector<Sample> s;
    int64_t t = 1700000000000LL + static_cast<int64_t>(rng() % 100000);
    double v = static_cast<double>(rng() % 1000);
    int kind = round % 3;
    for (int i = 0; i < 120; ++i) {
      t += 15000 + static_cast<int64_t>(rng() % 7) - 3;
      if (rng() % 200 == 0) t += 15000;  // a missed scrape
      if (kind == 0) v = (rng() % 500 == 0) ? 0 : v + static_cast<double>(rng() % 100);
      if (kind == 1) v = static_cast<double>(static_cast<int64_t>(rng() % 100000)) / 100.0;
      s.push_back({t, v});
    }
    ExpectRoundTrip(s);
    XorChunkEncoder x;
    for (const Sample& p : s) x.Append(p.t, p.v);
    xor_bytes += x.size_bytes();
    packed_bytes += EncodePackedChunk(s)->size();
  }
  EXPECT_LT(packed_bytes * 2, xor_bytes) << packed_bytes << " vs " << xor_bytes;
}

// Long chunks of every width mix (escapes, widths past the one-load limit, zero
// widths) decode the same through NextBatch as through Next.
TEST(PackedChunkTest, BatchDecodeAgreesOnEveryWidthMix) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 400; ++round) {
    std::vector<Sample> s;
    const int n = 1 + static_cast<int>(rng() % 1500);
    const int t_jitter = static_cast<int>(rng() % 4);  // 0: exact spacing (width 0)
    const int kind = static_cast<int>(rng() % 5);
    int64_t t = static_cast<int64_t>(rng() % (int64_t{1} << 42));
    int64_t iv = static_cast<int64_t>(rng() % 100000);
    for (int i = 0; i < n; ++i) {
      t += 15000 + (t_jitter ? static_cast<int64_t>(rng() % (1u << (4 * t_jitter))) : 0);
      if (rng() % 97 == 0) t += static_cast<int64_t>(rng() % (int64_t{1} << 40));  // escape
      switch (kind) {
        case 0:  // constant: value width 0
          break;
        case 1:  // small steps with rare huge jumps: escapes in the value codes
          iv += static_cast<int64_t>(rng() % 50);
          if (rng() % 61 == 0) iv = static_cast<int64_t>(rng() % (int64_t{1} << 50));
          break;
        case 2:  // wide deltas: t and v widths together past 57 bits
          iv = static_cast<int64_t>(rng() % (int64_t{1} << 52)) - (int64_t{1} << 51);
          break;
        default:  // gauge-like
          iv = static_cast<int64_t>(rng() % 1000000);
      }
      s.push_back({t, kind == 4 ? static_cast<double>(iv) / 1000 : static_cast<double>(iv)});
    }
    auto enc = EncodePackedChunk(s);
    ASSERT_TRUE(enc.has_value()) << "round " << round;
    ExpectBatchesAgree<PackedChunkIterator>(*enc);
    absl::Status st;
    ASSERT_EQ(Decode(*enc, &st), s) << "round " << round;
    ASSERT_TRUE(st.ok()) << st;
  }
}

// Exact spacing and a constant value: both code widths are 0, so a sample takes no
// bits at all (found by packed_chunk_fuzzer: the batch decoder shifted by 64 there).
TEST(PackedChunkTest, ZeroWidthCodesDecodeInBatches) {
  for (int n : {2, 3, 50, 1000}) {
    std::vector<Sample> s;
    for (int i = 0; i < n; ++i) s.push_back({1000 + i * 15000LL, 7.25});
    auto enc = EncodePackedChunk(s);
    ASSERT_TRUE(enc.has_value());
    ExpectBatchesAgree<PackedChunkIterator>(*enc);
    std::vector<Sample> got(n + 1);
    PackedChunkIterator it(*enc);
    ASSERT_EQ(it.NextBatch(got.data(), got.size()), static_cast<size_t>(n));
    got.resize(n);
    EXPECT_EQ(got, s);
  }
}

// Truncated or mangled chunks end with an error, never a crash or overread.
TEST(PackedChunkTest, CorruptInputIsAnError) {
  std::vector<Sample> s;
  for (int i = 0; i < 120; ++i) s.push_back({i * 15000LL, i * 1.5});
  std::string enc = *EncodePackedChunk(s);
  for (size_t cut = 0; cut < enc.size(); ++cut) {
    absl::Status st;
    ExpectBatchesAgree<PackedChunkIterator>(enc.substr(0, cut));
    std::vector<Sample> out = Decode(enc.substr(0, cut), &st);
    EXPECT_FALSE(st.ok()) << "cut at " << cut;
    EXPECT_LT(out.size(), s.size());
  }
  std::mt19937_64 rng(3);
  for (int i = 0; i < 2000; ++i) {
    std::string bad = enc;
    bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    Decode(bad);  // must not crash (run under ASan/UBSan in CI)
    ExpectBatchesAgree<PackedChunkIterator>(bad);
  }
}

}  // namespace
}  // namespace cairn
