// WalReader: reads the records of a WAL directory (or a checkpoint directory), in
// order, across segments [first, last]. Decompresses zstd payloads into a reused
// buffer. Corruption ends iteration with kDataLoss naming the segment and offset
// ("wal segment 00000003 offset 65536: record checksum mismatch").
//
// Thread-safety: none; one reader per thread. Reads segments through mmap.
#ifndef CAIRN_TSDB_WAL_WAL_READER_H_
#define CAIRN_TSDB_WAL_WAL_READER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "tsdb/io/file_system.h"

namespace cairn::wal {

class WalReader {
 public:
  // Segments numbered in [first_segment, last_segment]; -1 means unbounded.
  static absl::StatusOr<std::unique_ptr<WalReader>> Open(io::FileSystem* fs, const std::string& dir,
                                                         int first_segment = -1,
                                                         int last_segment = -1);
  ~WalReader();

  bool Next();
  std::string_view record() const { return record_; }
  absl::Status status() const { return status_; }
  // Where the current record (or the corruption) is.
  int segment() const {
    return segments_.empty() || index_ >= segments_.size() ? -1 : segments_[index_];
  }
  uint64_t offset() const { return record_offset_; }
  // Byte offset just past the last good record in segment(); used for repair.
  uint64_t good_end() const { return good_end_; }

 private:
  WalReader(io::FileSystem* fs, std::string dir, std::vector<int> segments);
  bool OpenSegment();
  bool Corrupt(std::string_view what);

  io::FileSystem* fs_;
  std::string dir_;
  std::vector<int> segments_;
  size_t index_ = 0;
  std::unique_ptr<io::MappedFile> file_;
  std::string_view data_;
  uint64_t pos_ = 0;
  uint64_t record_offset_ = 0;
  uint64_t good_end_ = 0;
  std::string_view record_;
  std::string decompressed_;
  void* zstd_dctx_ = nullptr;  // ZSTD_DCtx*
  absl::Status status_;
  bool opened_ = false;
};

}  // namespace cairn::wal

#endif  // CAIRN_TSDB_WAL_WAL_READER_H_
