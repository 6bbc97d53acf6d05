// BlockMeta: the contents of a block's meta.json, in Prometheus' shape
// (docs/format/block.md):
//   {"ulid": "...", "minTime": 0, "maxTime": 7200000,
//    "stats": {"numSamples": 0, "numSeries": 0, "numChunks": 0},
//    "compaction": {"level": 1, "sources": ["..."], "parents": [...]}, "version": 1}
// maxTime is exclusive. Written last when a block is created, so a directory with a
// readable meta.json is a complete block.
#ifndef CAIRN_TSDB_BLOCK_BLOCK_META_H_
#define CAIRN_TSDB_BLOCK_BLOCK_META_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tsdb/io/file_system.h"

namespace cairn::block {

inline constexpr std::string_view kMetaFileName = "meta.json";

struct BlockParent {
  std::string ulid;
  int64_t min_time = 0;
  int64_t max_time = 0;
  friend bool operator==(const BlockParent&, const BlockParent&) = default;
};

struct BlockMeta {
  std::string ulid;
  int64_t min_time = 0;  // inclusive
  int64_t max_time = 0;  // exclusive
  uint64_t num_samples = 0;
  uint64_t num_series = 0;
  uint64_t num_chunks = 0;
  uint64_t num_tombstones = 0;
  int level = 1;
  std::vector<std::string> sources;
  std::vector<BlockParent> parents;
  friend bool operator==(const BlockMeta&, const BlockMeta&) = default;
};

std::string EncodeBlockMeta(const BlockMeta& meta);
// Errors name `what` (usually the file path) and the problem.
absl::StatusOr<BlockMeta> DecodeBlockMeta(std::string_view json, std::string_view what);

// Writes <dir>/meta.json through a temporary file, fsynced and renamed.
absl::Status WriteBlockMeta(io::FileSystem* fs, const std::string& dir, const BlockMeta& meta);
absl::StatusOr<BlockMeta> ReadBlockMeta(io::FileSystem* fs, const std::string& dir);

}  // namespace cairn::block

#endif  // CAIRN_TSDB_BLOCK_BLOCK_META_H_
