// Fuzz target: the Gorilla chunk decoder on arbitrary bytes. It must never read out
// of bounds, whatever decodes must re-encode to a stream that decodes the same, and
// batch decoding must agree with Next().
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "tests/fuzz/batch_decode_agrees.h"
#include "tsdb/chunk/xor_chunk.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  CheckBatchDecodeAgrees<cairn::XorChunkIterator>(in);
  cairn::XorChunkIterator it(in);
  std::vector<std::pair<int64_t, uint64_t>> got;
  while (it.Next()) got.emplace_back(it.t(), std::bit_cast<uint64_t>(it.v()));
  (void)it.status();
  // Re-encode what decoded (only if timestamps are ordered, as the encoder requires).
  for (size_t i = 1; i < got.size(); ++i) {
    if (got[i].first < got[i - 1].first) return 0;
  }
  cairn::XorChunkEncoder enc;
  for (const auto& [t, v] : got) enc.Append(t, std::bit_cast<double>(v));
  cairn::XorChunkIterator again(enc.bytes());
  for (const auto& [t, v] : got) {
    if (!again.Next() || again.t() != t || std::bit_cast<uint64_t>(again.v()) != v) std::abort();
  }
  if (again.Next()) std::abort();
  it.Reset(in);
  (void)it.Seek(static_cast<int64_t>(size) * 1000);
  return 0;
}
