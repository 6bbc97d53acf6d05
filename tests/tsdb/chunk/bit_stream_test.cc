#include "tsdb/chunk/bit_stream.h"

#include <random>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace cairn {
namespace {

// The bits a writer should have produced, one bool per bit, checked against bytes():
// same length, same bits, zero padding in the last byte.
void ExpectStream(std::string_view got, const std::vector<bool>& want, size_t header_bytes) {
  ASSERT_EQ(got.size(), header_bytes + (want.size() + 7) / 8);
  for (size_t i = 0; i < header_bytes; ++i) ASSERT_EQ(got[i], 0) << "header byte " << i;
  std::string_view stream = got.substr(header_bytes);
  for (size_t i = 0; i < stream.size() * 8; ++i) {
    const bool bit = (static_cast<uint8_t>(stream[i / 8]) >> (7 - i % 8)) & 1;
    ASSERT_EQ(bit, i < want.size() && want[i]) << "bit " << i << " of " << want.size();
  }
}

// The top n bits of v (0 <= n <= 64), the rest zero.
uint64_t KeepTop(uint64_t v, int n) { return n == 0 ? 0 : (v >> (64 - n)) << (64 - n); }

void AppendBits(std::vector<bool>* bits, uint64_t v, int n) {
  for (int b = n - 1; b >= 0; --b) bits->push_back((v >> b) & 1);
}

// Random mixes of every write kind, in runs of random length; the stream must be
// whole (sealed) after every run, as the XOR chunk's open chunks rely on.
TEST(BitWriterTest, RandomWritesMatchBitByBit) {
  std::mt19937_64 rng(3);
  for (int iter = 0; iter < 3000; ++iter) {
    const size_t header = iter % 3;
    BitWriter w(header);
    std::vector<bool> want;
    const int runs = static_cast<int>(rng() % 12);
    for (int run = 0; run < runs; ++run) {
      w.Reserve(4 * 128);
      BitWriter::Run r(&w);
      bool sealed = true;  // whether FinishSealed() is allowed after the last write
      const int writes = 1 + static_cast<int>(rng() % 4);
      for (int i = 0; i < writes; ++i) {
        const uint64_t v = rng();
        switch (rng() % 3) {
          case 0: {  // WriteBits: low n bits, 1..64
            const int n = 1 + static_cast<int>(rng() % 64);
            r.WriteBits(v, n);
            AppendBits(&want, v, n);
            sealed = false;
            break;
          }
          case 1: {  // WriteLeft: top n bits, 0..64
            const int n = static_cast<int>(rng() % 65);
            const uint64_t left = KeepTop(v, n);
            r.WriteLeft(left, n);
            AppendBits(&want, n == 0 ? 0 : left >> (64 - n), n);
            sealed = false;
            break;
          }
          default: {  // WriteLeftPair: 1..56 then 0..64 bits
            const int n1 = 1 + static_cast<int>(rng() % 56);
            const int n2 = static_cast<int>(rng() % 65);
            const uint64_t v2 = rng();
            const uint64_t left1 = KeepTop(v, n1);
            const uint64_t left2 = KeepTop(v2, n2);
            r.WriteLeftPair(left1, n1, left2, n2);
            AppendBits(&want, left1 >> (64 - n1), n1);
            AppendBits(&want, n2 == 0 ? 0 : left2 >> (64 - n2), n2);
            sealed = true;
          }
        }
      }
      if (sealed && rng() % 2 == 0) {
        r.FinishSealed();
      } else {
        r.Finish();
      }
      ExpectStream(w.bytes(), want, header);
    }
    // One-off writes on the writer itself, as the packed chunk encoder uses them.
    w.Reserve(64);
    w.WriteBits(0b101, 3);
    AppendBits(&want, 0b101, 3);
    w.Seal();
    ExpectStream(w.bytes(), want, header);
  }
}

TEST(BitWriterTest, GrowKeepsThePartialByte) {
  BitWriter w;
  std::vector<bool> want;
  for (int i = 0; i < 5000; ++i) {
    w.Reserve(7);
    w.WriteBits(static_cast<uint64_t>(i), 7);
    AppendBits(&want, static_cast<uint64_t>(i), 7);
  }
  ExpectStream(w.bytes(), want, 0);
  EXPECT_GE(w.capacity_bytes(), w.bytes().size());
}

TEST(BitWriterTest, HeaderBigEndian16) {
  BitWriter w(2);
  w.SetBigEndian16(0, 0x1234);
  EXPECT_EQ(w.GetBigEndian16(0), 0x1234);
  EXPECT_EQ(w.bytes(), std::string_view("\x12\x34", 2));
  w.Reset(2);
  EXPECT_EQ(w.GetBigEndian16(0), 0);
}

}  // namespace
}  // namespace cairn
