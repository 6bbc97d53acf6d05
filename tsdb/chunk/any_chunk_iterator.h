// AnyChunkIterator: decodes a chunk of either encoding (XOR or packed) behind one
// non-virtual interface, so a series iterator that crosses chunks of both kinds (a
// block's, or the head's: closed head chunks are packed where that is smaller, the
// open one is XOR) pays no virtual call per sample.
//
// Thread-safety: none (one iterator per reader).
#ifndef CAIRN_TSDB_CHUNK_ANY_CHUNK_ITERATOR_H_
#define CAIRN_TSDB_CHUNK_ANY_CHUNK_ITERATOR_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "tsdb/chunk/chunk_encoding.h"
#include "tsdb/chunk/packed_chunk.h"
#include "tsdb/chunk/xor_chunk.h"
#include "tsdb/model/sample.h"

namespace cairn {

class AnyChunkIterator {
 public:
  // REQUIRES: `enc` is kXor or kPacked (readers check encodings when loading chunks).
  void Reset(ChunkEncoding enc, std::string_view data) {
    packed_mode_ = enc == ChunkEncoding::kPacked;
    if (packed_mode_) {
      packed_.Reset(data);
    } else {
      xor_.Reset(data);
    }
  }
  bool Next() { return packed_mode_ ? packed_.Next() : xor_.Next(); }
  size_t NextBatch(Sample* out, size_t max) {
    return packed_mode_ ? packed_.NextBatch(out, max) : xor_.NextBatch(out, max);
  }
  bool Seek(int64_t t) { return packed_mode_ ? packed_.Seek(t) : xor_.Seek(t); }
  int64_t t() const { return packed_mode_ ? packed_.t() : xor_.t(); }
  double v() const { return packed_mode_ ? packed_.v() : xor_.v(); }
  absl::Status status() const { return packed_mode_ ? packed_.status() : xor_.status(); }

 private:
  XorChunkIterator xor_;
  PackedChunkIterator packed_;
  bool packed_mode_ = false;
};

}  // namespace cairn

#endif  // CAIRN_TSDB_CHUNK_ANY_CHUNK_ITERATOR_H_
