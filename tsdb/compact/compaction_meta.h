// CombineMetas: the meta of the block that compacting some blocks produces, by
// Prometheus' rules (compact.go CompactBlockMetas): the time range is the union of
// the inputs' ranges, the level is one more than the highest input level, and the
// sources are the union of the inputs' sources (sorted, each once) — so a block
// always knows which level-1 blocks it replaces, whatever the path it took.
//
// Thread-safety: pure function.
#ifndef CAIRN_TSDB_COMPACT_COMPACTION_META_H_
#define CAIRN_TSDB_COMPACT_COMPACTION_META_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cairn::compact {

struct CompactionMeta {
  int64_t min_time_ms = 0;  // inclusive
  int64_t max_time_ms = 0;  // exclusive
  int level = 1;
  std::vector<std::string> sources;  // ULIDs of the level-1 blocks covered, sorted
  std::vector<std::string> parents;  // ULIDs of the direct inputs, in input order
};

struct InputMeta {
  std::string ulid;
  int64_t min_time_ms;
  int64_t max_time_ms;
  int level;
  // A level-1 block may list no sources; it then stands for itself.
  std::vector<std::string> sources;
};

// kInvalidArgument when `inputs` is empty or an input's range is inverted.
absl::StatusOr<CompactionMeta> CombineMetas(const std::vector<InputMeta>& inputs);

}  // namespace cairn::compact

#endif  // CAIRN_TSDB_COMPACT_COMPACTION_META_H_
