#include "tsdb/compact/compactor.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tsdb/util/absl_compat.h"
#include "tsdb/util/status_macros.h"

namespace cairn::compact {
namespace {

absl::StatusOr<std::optional<CompactionResult>> CompactInto(io::FileSystem* fs,
                                                            const std::string& db_dir,
                                                            const std::string& tmp_dir,
                                                            const std::string& new_ulid,
                                                            std::vector<CompactionInput> inputs,
                                                            BlockOutputFactory* output_factory) {
  std::vector<InputMeta> metas;
  std::vector<std::unique_ptr<storage::SeriesSet>> sets;
  for (CompactionInput& in : inputs) {
    metas.push_back(in.meta);
    sets.push_back(WithoutDeletedSeries(std::move(in.series), std::move(in.deleted)));
  }
  CAIRN_ASSIGN_OR_RETURN(CompactionMeta meta, CombineMetas(metas));

  CAIRN_RETURN_IF_ERROR(fs->RemoveAll(tmp_dir));
  CAIRN_RETURN_IF_ERROR(fs->CreateDirs(tmp_dir));
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<BlockOutput> out, output_factory->Create(tmp_dir));
  CAIRN_ASSIGN_OR_RETURN(CompactionStats stats, CompactSeries(std::move(sets), out.get()));
  if (stats.num_series == 0) {
    out.reset();
    CAIRN_RETURN_IF_ERROR(fs->RemoveAll(tmp_dir));
    return std::nullopt;
  }
  CAIRN_RETURN_IF_ERROR(out->Finish(new_ulid, meta, stats));
  out.reset();
  const std::string final_dir = io::JoinPath(db_dir, new_ulid);
  CAIRN_RETURN_IF_ERROR(fs->SyncDir(tmp_dir));
  CAIRN_RETURN_IF_ERROR(fs->Rename(tmp_dir, final_dir));
  CAIRN_RETURN_IF_ERROR(fs->SyncDir(db_dir));
  return CompactionResult{new_ulid, final_dir, std::move(meta), stats};
}

}  // namespace

absl::StatusOr<std::optional<CompactionResult>> Compact(io::FileSystem* fs,
                                                        const std::string& db_dir,
                                                        const std::string& new_ulid,
                                                        std::vector<CompactionInput> inputs,
                                                        BlockOutputFactory* output_factory) {
  const std::string tmp_dir =
      io::JoinPath(db_dir, absl::StrCat(new_ulid, Sv(kTmpForCreationSuffix)));
  auto result = CompactInto(fs, db_dir, tmp_dir, new_ulid, std::move(inputs), output_factory);
  if (!result.ok()) {
    // Best effort: a leftover is also cleaned at the next start-up.
    fs->RemoveAll(tmp_dir).IgnoreError();
    return Annotate(result.status(), absl::StrFormat("compacting into block %s", new_ulid));
  }
  return result;
}

}  // namespace cairn::compact
