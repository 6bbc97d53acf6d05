#include "tsdb/chunk/packed_chunk.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "gtest/gtest.h"
#include "tests/tsdb/chunk/batch_decode_check.h"
#include "tsdb/chunk/chunk_kernels.h"
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

// Tests of the encoder and the batch decoder run once per kernel this CPU supports
// (plain, BMI2, AVX-512): each must write the same bytes, and decode exactly what
// Next() decodes.
class PackedKernelTest : public testing::TestWithParam<ChunkKernel> {
 protected:
  void SetUp() override { UseChunkKernel(GetParam()); }
  void TearDown() override { UseChunkKernel(SupportedChunkKernels().back()); }
};

INSTANTIATE_TEST_SUITE_P(Kernels, PackedKernelTest, testing::ValuesIn(SupportedChunkKernels()),
                         [](const testing::TestParamInfo<ChunkKernel>& info) {
                           return std::string(ChunkKernelName(info.param));
                         });

TEST_P(PackedKernelTest, RoundTripsDecimalsIntegersAndEdgeTimestamps) {
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

TEST_P(PackedKernelTest, RefusesValuesItCannotRepresentExactly) {
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
TEST_P(PackedKernelTest, RandomSeriesRoundTripAndBeatXor) {
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
TEST_P(PackedKernelTest, BatchDecodeAgreesOnEveryWidthMix) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 400; ++round) {
    std::vector<Sample> s;
    const int n = 1 + static_cast<int>(rng() % 1500);
    const int t_jitter = static_cast<int>(rng() % 4);  // 0: exact spacing (width 0)
    const int kind = static_cast<int>(rng() % 6);
    int64_t t = static_cast<int64_t>(rng() % (int64_t{1} << 42));
    int64_t iv = static_cast<int64_t>(rng() % 100000);
    // Kind 5: a counter crossing +-2^51, or climbing towards 2^53 (the codec's
    // bound): integers where a vector int-to-double shortcut (the 2^52 + 2^51 bias
    // works only below 2^51) would go wrong.
    const int64_t big_start[] = {(int64_t{1} << 51) - 700, -(int64_t{1} << 51) - 700,
                                 (int64_t{1} << 53) - 100000};
    const int big = static_cast<int>(rng() % 3);
    if (kind == 5) iv = big_start[big];
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
        case 5:
          iv += 2 * static_cast<int64_t>(rng() % 8);
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
TEST_P(PackedKernelTest, ZeroWidthCodesDecodeInBatches) {
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
TEST_P(PackedKernelTest, CorruptInputIsAnError) {
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

// A plain encoder written from docs/format/chunks.md: tries every scale in order with
// nearbyint, every width by brute force, and writes bit by bit. The real encoder
// takes shortcuts (one trial per value, a histogram for the widths, a branch-free
// writer) that must not change a byte.
std::optional<std::string> ReferenceEncode(const std::vector<Sample>& s) {
  const double pow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
  int scale = -1;
  std::vector<int64_t> ints;
  for (int d = 0; d <= 9 && scale < 0; ++d) {
    ints.clear();
    bool ok = true;
    for (const Sample& x : s) {
      const double y = x.v * pow10[d];
      if (!(std::fabs(y) < 9007199254740992.0)) {
        ok = false;
        break;
      }
      const int64_t r = static_cast<int64_t>(std::nearbyint(y));
      const double back = static_cast<double>(r) / pow10[d];
      if (std::memcmp(&back, &x.v, 8) != 0) {
        ok = false;
        break;
      }
      ints.push_back(r);
    }
    if (ok) scale = d;
  }
  if (scale < 0) return std::nullopt;
  auto zigzag = [](int64_t v) {
    return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  };
  std::vector<uint64_t> tc, vc;
  for (size_t i = 1; i < s.size(); ++i) {
    if (i >= 2) {
      const uint64_t dt = static_cast<uint64_t>(s[i].t) - static_cast<uint64_t>(s[i - 1].t);
      const uint64_t prev = static_cast<uint64_t>(s[i - 1].t) - static_cast<uint64_t>(s[i - 2].t);
      tc.push_back(zigzag(static_cast<int64_t>(dt - prev)));
    }
    vc.push_back(zigzag(
        static_cast<int64_t>(static_cast<uint64_t>(ints[i]) - static_cast<uint64_t>(ints[i - 1]))));
  }
  auto cost = [](const std::vector<uint64_t>& codes, int w) {
    uint64_t bits = 0;
    for (uint64_t c : codes) {
      if (w == 0 && c != 0) return ~uint64_t{0};
      bits += static_cast<uint64_t>(w);
      if (w > 0 && w < 64 && c >= (uint64_t{1} << w) - 1) bits += 64;
    }
    return bits;
  };
  auto best = [&cost](const std::vector<uint64_t>& codes) {
    int bw = 0;
    for (int w = 1; w <= 64; ++w) {
      if (cost(codes, w) < cost(codes, bw)) bw = w;
    }
    return bw;
  };
  std::vector<bool> bits;
  auto put = [&bits](uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) bits.push_back(((v >> i) & 1) != 0);
  };
  auto code = [&put](uint64_t c, int w) {
    if (w == 0) return;
    if (w < 64 && c >= (uint64_t{1} << w) - 1) {
      put((uint64_t{1} << w) - 1, w);
      put(c, 64);
    } else {
      put(c, w);
    }
  };
  std::string out;
  out.push_back(static_cast<char>(s.size() >> 8));
  out.push_back(static_cast<char>(s.size()));
  auto varint = [&out](uint64_t v) {
    while (v >= 0x80) {
      out.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<char>(v));
  };
  varint(zigzag(s[0].t));
  varint(zigzag(ints[0]));
  out.push_back(static_cast<char>(scale));
  if (s.size() >= 2) {
    varint(static_cast<uint64_t>(s[1].t) - static_cast<uint64_t>(s[0].t));
    const int tw = tc.empty() ? 0 : best(tc), vw = best(vc);
    out.push_back(static_cast<char>(tw));
    out.push_back(static_cast<char>(vw));
    for (size_t i = 1; i < s.size(); ++i) {
      if (i >= 2) code(tc[i - 2], tw);
      code(vc[i - 1], vw);
    }
    while (bits.size() % 8 != 0) bits.push_back(false);
    for (size_t i = 0; i < bits.size(); i += 8) {
      int byte = 0;
      for (size_t j = 0; j < 8; ++j) byte = (byte << 1) | (bits[i + j] ? 1 : 0);
      out.push_back(static_cast<char>(byte));
    }
  }
  return out;
}

// Values at the 2^53 bound of each scale, checked eight at a time by the vector
// encoder after an earlier value raised the scale: |value * 10^d| must stay below
// 2^53 exactly as in the scalar check.
TEST_P(PackedKernelTest, ScaleBoundMatchesReferenceEncoder) {
  for (int d = 1; d <= 9; ++d) {
    const double bound = 9007199254740992.0 / std::pow(10.0, d);
    double v = bound;
    for (int i = 0; i < 3; ++i) v = std::nextafter(v, 0.0);
    for (int step = 0; step < 6; ++step, v = std::nextafter(v, 1e300)) {
      std::vector<Sample> s;
      int64_t t = 1000;
      for (int i = 0; i < 8; ++i) s.push_back({t += 15000, std::pow(10.0, -d)});
      for (int i = 0; i < 16; ++i) s.push_back({t += 15000, i % 2 ? v : -v});
      const auto want = ReferenceEncode(s);
      const auto got = EncodePackedChunk(s);
      ASSERT_EQ(got.has_value(), want.has_value()) << "scale " << d << " value " << v;
      if (got.has_value()) {
        EXPECT_EQ(*got, *want) << "scale " << d << " value " << v;
      }
    }
  }
}

// The encoder writes what the format's plain reading writes, on every kind of chunk:
// scales raised late in a chunk, outliers that make escapes pay, codes of exactly
// the escape's value, widths 0 and 64, a single sample.
TEST_P(PackedKernelTest, EncoderMatchesPlainReferenceEncoder) {
  std::mt19937_64 rng(5);
  for (int round = 0; round < 3000; ++round) {
    std::vector<Sample> s;
    const int n = 1 + static_cast<int>(rng() % (round % 10 == 0 ? 700 : 130));
    const int kind = static_cast<int>(rng() % 8);
    // Unsigned: random steps wrap around the int64 range, as the format allows.
    uint64_t t = static_cast<uint64_t>(static_cast<int64_t>(rng()) >> static_cast<int>(rng() % 64));
    int64_t iv = static_cast<int64_t>(rng() % 1000);
    const int scale_at = static_cast<int>(rng() % static_cast<uint64_t>(n));
    for (int i = 0; i < n; ++i) {
      // Kind 6: arbitrary steps (width 64); kind 7: delta-of-deltas of 57-62 bits
      // with rare larger ones (escapes at widths past one 56-bit write).
      t += kind == 6   ? rng()
           : kind == 7 ? (uint64_t{1} << (56 + rng() % 6)) + (rng() % 64 == 0 ? rng() : 0)
                       : 15000 + rng() % 16;
      if (rng() % 50 == 0) t += rng() % 100000;
      double v;
      switch (kind) {
        case 0:  // codes 0..3 around escapes of small widths
          iv += static_cast<int64_t>(rng() % 4) - 1;
          v = static_cast<double>(iv);
          break;
        case 1:  // two decimals from one sample on
          v = static_cast<double>(iv + static_cast<int64_t>(rng() % 100)) /
              (i >= scale_at ? 100.0 : 1.0);
          break;
        case 2:  // counters with resets
          iv = rng() % 300 == 0 ? 0 : iv + static_cast<int64_t>(rng() % 1000);
          v = static_cast<double>(iv);
          break;
        case 3:  // huge integers: wide codes
          v = static_cast<double>(static_cast<int64_t>(rng() % (uint64_t{1} << 53)) -
                                  (int64_t{1} << 52));
          break;
        case 4:  // decimals with up to 9 digits
          v = static_cast<double>(static_cast<int64_t>(rng() % 100000)) /
              std::pow(10.0, static_cast<double>(rng() % 10));
          break;
        default:
          v = static_cast<double>(iv);
      }
      s.push_back({static_cast<int64_t>(t), v});
    }
    const auto want = ReferenceEncode(s);
    const auto got = EncodePackedChunk(s);
    ASSERT_EQ(got.has_value(), want.has_value()) << "round " << round;
    if (got.has_value()) {
      ASSERT_EQ(*got, *want) << "round " << round;
      ASSERT_EQ(Decode(*got), s) << "round " << round;
    }
  }
}

}  // namespace
}  // namespace cairn
