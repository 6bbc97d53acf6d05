// Fuzz target: the packed-decimal chunk decoder (docs/format/chunks.md) on arbitrary
// bytes: no out-of-bounds read, no endless loop, Seek consistent with Next, batch
// decoding consistent with Next.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tests/fuzz/batch_decode_agrees.h"
#include "tsdb/chunk/packed_chunk.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  CheckBatchDecodeAgrees<cairn::PackedChunkIterator>(in);
  cairn::PackedChunkIterator it(in);
  int n = 0;
  int64_t last_t = 0;
  while (it.Next()) {
    if (++n > 65535) std::abort();  // the header's count is 16 bits
    last_t = it.t();
    (void)it.v();
  }
  (void)it.status();
  cairn::PackedChunkIterator again(in);
  if (n > 0 && again.Seek(last_t) && again.t() < last_t) std::abort();
  return 0;
}
