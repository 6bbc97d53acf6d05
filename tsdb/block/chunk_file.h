// Chunk segment files of a block (docs/format/block.md): `<block>/chunks/000001`, ...
// Each file is an 8-byte header (magic 0x85BD40DD, version 1, 3 bytes padding)
// followed by chunks, each `len <uvarint> | encoding <1b> | data <len bytes> |
// CRC32C(encoding, data) <4b>`. A chunk reference is (file sequence, 0-based) << 32 |
// byte offset. The format is Prometheus' so either can read the other's blocks.
//
// ChunkWriter appends chunks and starts a new file before one would exceed the
// segment size; Finish() fsyncs and closes. ChunkReader maps every segment and hands
// out chunk bytes after checking bounds and the CRC, so damage is an error naming the
// file and offset.
//
// Thread-safety: ChunkWriter single-threaded; ChunkReader immutable after Open().
#ifndef CAIRN_TSDB_BLOCK_CHUNK_FILE_H_
#define CAIRN_TSDB_BLOCK_CHUNK_FILE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tsdb/chunk/chunk_encoding.h"
#include "tsdb/io/file_system.h"

namespace cairn::block {

inline constexpr uint32_t kChunksMagic = 0x85BD40DD;
inline constexpr uint8_t kChunksVersion = 1;
inline constexpr size_t kChunksHeaderSize = 8;
inline constexpr uint64_t kDefaultMaxSegmentSize = 512ull << 20;

// "000001" for sequence 0.
std::string ChunkSegmentName(uint32_t seq);

class ChunkWriter {
 public:
  static absl::StatusOr<std::unique_ptr<ChunkWriter>> Create(
      io::FileSystem* fs, std::string dir, uint64_t max_segment_size = kDefaultMaxSegmentSize);
  ~ChunkWriter();

  // Appends one chunk and returns its reference.
  absl::StatusOr<uint64_t> Write(ChunkEncoding encoding, std::string_view data);
  // Syncs and closes the current segment and the directory.
  absl::Status Finish();

  uint64_t bytes_written() const { return total_bytes_; }

 private:
  ChunkWriter(io::FileSystem* fs, std::string dir, uint64_t max_segment_size)
      : fs_(fs), dir_(std::move(dir)), max_segment_size_(max_segment_size) {}
  absl::Status CutSegment();
  absl::Status FinishSegment();

  io::FileSystem* const fs_;
  const std::string dir_;
  const uint64_t max_segment_size_;
  std::unique_ptr<io::WritableFile> file_;
  uint32_t seq_ = 0;  // of file_ when open
  uint64_t offset_ = 0;
  uint64_t total_bytes_ = 0;
  std::string buf_;
};

class ChunkReader {
 public:
  // Maps every segment in `dir` (the block's chunks/ directory).
  static absl::StatusOr<std::unique_ptr<ChunkReader>> Open(io::FileSystem* fs,
                                                           const std::string& dir);

  // The data of chunk `ref` (without length, encoding and CRC), valid while the
  // reader lives. DataLoss if the reference is out of range or the CRC mismatches.
  absl::StatusOr<std::string_view> Chunk(uint64_t ref, ChunkEncoding* encoding = nullptr) const;

  uint64_t size_bytes() const { return size_bytes_; }

 private:
  std::vector<std::unique_ptr<io::MappedFile>> segments_;
  uint64_t size_bytes_ = 0;
};

}  // namespace cairn::block

#endif  // CAIRN_TSDB_BLOCK_CHUNK_FILE_H_
