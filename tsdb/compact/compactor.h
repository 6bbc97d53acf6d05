// Compactor: turns several blocks into one. The inputs are read through label-sorted
// series sets with their tombstones applied (WithoutDeletedSeries), merged and
// re-chunked by CompactSeries, and written by a block writer into
// `<db_dir>/<ulid>.tmp-for-creation`, which is renamed to `<db_dir>/<ulid>` only once
// complete and synced — so a crash leaves either no new block or a whole one (the
// DB deletes leftover *.tmp-for-creation directories at start-up, as Prometheus does).
// Deleting the inputs is the caller's (the DB's) job once the new block is in place.
//
// The block format sits behind BlockOutput/BlockOutputFactory: the block module's
// writer implements them, and tests can too. If every input sample is deleted or the
// inputs are empty, no block is written and Compact() says so by returning nullopt.
//
// Thread-safety: Compact() may run concurrently with queries on the inputs; two
// compactions must not share inputs (the DB serialises them).
#ifndef CAIRN_TSDB_COMPACT_COMPACTOR_H_
#define CAIRN_TSDB_COMPACT_COMPACTOR_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tsdb/compact/compaction_meta.h"
#include "tsdb/compact/deleted_series_set.h"
#include "tsdb/compact/series_compactor.h"
#include "tsdb/io/file_system.h"
#include "tsdb/storage/series.h"

namespace cairn::compact {

// Suffix of the directory a block is built in before it is renamed into place.
inline constexpr std::string_view kTmpForCreationSuffix = ".tmp-for-creation";

// One input block, opened for compaction.
struct CompactionInput {
  InputMeta meta;
  // Every series of the block with all its samples, sorted by labels. Must stay
  // valid (the block pinned) until Compact() returns.
  std::unique_ptr<storage::SeriesSet> series;
  // The block's tombstones, resolved from series refs to labels.
  DeletedByLabels deleted;
};

// Writes one block into a directory: series in label order (the CompactionSink
// part), then Finish() with the final meta writes index and meta files and syncs
// everything. Destroying an unfinished output leaves a partial directory that the
// compactor removes.
class BlockOutput : public CompactionSink {
 public:
  virtual absl::Status Finish(const std::string& ulid, const CompactionMeta& meta,
                              const CompactionStats& stats) = 0;
};

class BlockOutputFactory {
 public:
  virtual ~BlockOutputFactory() = default;
  // A writer for a new block in `dir` (existing and empty).
  virtual absl::StatusOr<std::unique_ptr<BlockOutput>> Create(const std::string& dir) = 0;
};

struct CompactionResult {
  std::string ulid;
  std::string dir;  // <db_dir>/<ulid>
  CompactionMeta meta;
  CompactionStats stats;
};

// Compacts `inputs` (oldest first: on duplicate timestamps the first input wins)
// into block `new_ulid` under `db_dir`. Returns nullopt when the merged result has
// no samples (nothing is left on disk then). Errors name the new block; the
// temporary directory is removed on failure.
absl::StatusOr<std::optional<CompactionResult>> Compact(io::FileSystem* fs,
                                                        const std::string& db_dir,
                                                        const std::string& new_ulid,
                                                        std::vector<CompactionInput> inputs,
                                                        BlockOutputFactory* output_factory);

}  // namespace cairn::compact

#endif  // CAIRN_TSDB_COMPACT_COMPACTOR_H_
