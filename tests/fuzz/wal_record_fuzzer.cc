// Fuzz target: WAL record decoders on arbitrary bytes — they must fail cleanly — and
// round trips of whatever decodes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tsdb/wal/record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<cairn::wal::SeriesRecord> series;
  std::vector<cairn::wal::SampleRecord> samples;
  std::vector<cairn::wal::TombstoneRecord> tombstones;
  if (cairn::wal::DecodeSeries(in, &series).ok()) {
    std::string enc;
    cairn::wal::EncodeSeries(series, &enc);
    std::vector<cairn::wal::SeriesRecord> again;
    if (!cairn::wal::DecodeSeries(enc, &again).ok() || again.size() != series.size()) std::abort();
  }
  if (cairn::wal::DecodeSamples(in, &samples).ok()) {
    std::string enc;
    cairn::wal::EncodeSamples(samples, &enc);
    std::vector<cairn::wal::SampleRecord> again;
    if (!cairn::wal::DecodeSamples(enc, &again).ok() || again.size() != samples.size())
      std::abort();
  }
  (void)cairn::wal::DecodeTombstones(in, &tombstones);
  return 0;
}
