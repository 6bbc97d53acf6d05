// Retention: which blocks to delete so the data directory stays within its time and
// size limits, with Prometheus' semantics (db.go BeyondTimeRetention and
// BeyondSizeRetention):
//   - by time: with blocks ordered newest first by max time, every block from the
//     first one whose max time is more than retention_ms older than the newest
//     block's max time (the newest block itself is never deleted by time);
//   - by size: walking newest to oldest and adding block sizes to the head/WAL
//     bytes, the first block that makes the total exceed retention_bytes and every
//     older block.
// Deleting the blocks is the caller's (the DB's) job.
//
// Thread-safety: pure function.
#ifndef CAIRN_TSDB_COMPACT_RETENTION_H_
#define CAIRN_TSDB_COMPACT_RETENTION_H_

#include <cstdint>
#include <string>
#include <vector>

namespace cairn::compact {

struct RetentionBlock {
  std::string id;
  int64_t min_time_ms;
  int64_t max_time_ms;  // exclusive
  uint64_t size_bytes;
};

struct RetentionOptions {
  int64_t retention_ms = 0;     // <= 0: no time limit
  int64_t retention_bytes = 0;  // <= 0: no size limit
};

// Ids of the blocks to delete, oldest first, each once. `blocks` may be in any
// order; `head_bytes` is what the head and WAL occupy (counted against the size
// limit before any block, as Prometheus counts Head().Size()).
std::vector<std::string> BlocksBeyondRetention(std::vector<RetentionBlock> blocks,
                                               const RetentionOptions& options,
                                               uint64_t head_bytes);

}  // namespace cairn::compact

#endif  // CAIRN_TSDB_COMPACT_RETENTION_H_
