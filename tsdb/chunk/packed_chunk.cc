#include "tsdb/chunk/packed_chunk.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_format.h"
#include "tsdb/chunk/packed_stride_decoder.h"
#include "tsdb/util/coding.h"

namespace cairn {
void PackedChunkIterator::Reset(std::string_view bytes) {
  status_ = absl::OkStatus();
  failed_ = false;
  read_ = 0;
  total_ = 0;
  std::string_view in = bytes;
  if (in.size() < 2) {
    Fail("chunk header");
    return;
  }
  total_ = DecodeBigEndian16(in.data());
  in.remove_prefix(2);
  uint8_t scale;
  if (total_ == 0 || !GetSignedVarint64(&in, &t0_) || !GetSignedVarint64(&in, &v0_) ||
      !GetByte(&in, &scale) || scale > kPackedMaxScale) {
    Fail("chunk header");
    return;
  }
  scale_div_ = kPackedPow10[scale];
  t_width_ = v_width_ = 0;
  if (total_ >= 2) {
    uint64_t dt1;
    uint8_t tw, vw;
    if (!GetVarint64(&in, &dt1) || !GetByte(&in, &tw) || !GetByte(&in, &vw) || tw > 64 || vw > 64) {
      Fail("chunk header");
      return;
    }
    dt1_ = static_cast<int64_t>(dt1);
    t_width_ = tw;
    v_width_ = vw;
  }
  r_.Reset(in);
}

bool PackedChunkIterator::Fail(std::string_view what) {
  if (!failed_) {
    status_ = absl::DataLossError(
        absl::StrFormat("packed chunk: corrupt %s at sample %d of %d", what, read_, total_));
  }
  failed_ = true;
  read_ = total_;
  return false;
}

uint64_t PackedChunkIterator::ReadCode(int width) {
  if (width == 0) return 0;
  uint64_t c = r_.ReadBits(width);
  if (width < 64 && c == (uint64_t{1} << width) - 1) c = r_.ReadBits(64);
  return c;
}

bool PackedChunkIterator::Next() {
  if (failed_ || read_ >= total_) return false;
  if (read_ == 0) {
    t_ = t0_;
    ival_ = v0_;
  } else {
    if (read_ == 1) {
      dt_ = dt1_;
    } else {
      dt_ = static_cast<int64_t>(static_cast<uint64_t>(dt_) +
                                 static_cast<uint64_t>(ZigZagDecode(ReadCode(t_width_))));
    }
    t_ = static_cast<int64_t>(static_cast<uint64_t>(t_) + static_cast<uint64_t>(dt_));
    ival_ = static_cast<int64_t>(static_cast<uint64_t>(ival_) +
                                 static_cast<uint64_t>(ZigZagDecode(ReadCode(v_width_))));
    if (r_.overrun()) return Fail("bit stream (truncated)");
  }
  ++read_;
  return true;
}

size_t PackedChunkIterator::NextBatch(Sample* out, size_t max) {
  size_t n = 0;
  // The first two samples come from the header; widths the kernel cannot load in one
  // word take the checked path throughout.
  const bool fixed_stride_ok = t_width_ < 64 && v_width_ < 64 && t_width_ + v_width_ <= 57;
  while (n < max && (read_ < 2 || !fixed_stride_ok)) {
    if (!Next()) return n;
    out[n++] = Sample{t_, v()};
  }
  const FixedStrideParams params{r_.data(), r_.size_bytes(), t_width_, v_width_, scale_div_};
  while (n < max && read_ < total_ && !failed_) {
    FixedStrideState st{r_.pos(), static_cast<uint64_t>(t_), static_cast<uint64_t>(dt_),
                        static_cast<uint64_t>(ival_)};
    const size_t want = std::min<size_t>(max - n, total_ - read_);
    const size_t k = DecodeFixedStride(params, &st, out + n, want);
    n += k;
    read_ = static_cast<uint16_t>(read_ + k);
    r_.set_pos(st.pos);
    t_ = static_cast<int64_t>(st.t);
    dt_ = static_cast<int64_t>(st.dt);
    ival_ = static_cast<int64_t>(st.ival);
    if (k < want) {
      // An escaped sample, or the truncation Next() reports.
      if (!Next()) return n;
      out[n++] = Sample{t_, v()};
    }
  }
  return n;
}

bool PackedChunkIterator::Seek(int64_t t) {
  if (read_ > 0 && !failed_ && t_ >= t) return true;
  while (Next()) {
    if (t_ >= t) return true;
  }
  return false;
}

}  // namespace cairn
