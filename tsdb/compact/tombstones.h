// Tombstones: the record of deleted samples of one block. A block never changes after
// it is written (DESIGN.md); deleting series from it writes a `tombstones` file beside
// its index that lists, per series ref, the time intervals whose samples must be
// hidden from readers and dropped by the next compaction (docs/format/tombstones.md).
//
// TombstoneSet holds the intervals per series ref, kept sorted and merged: Add() of an
// interval that overlaps or touches an existing one widens it. Encode()/Decode() are
// the file format; ReadTombstones()/WriteTombstones() put it in a block directory
// (written atomically, so a crash leaves the old or the new file, never a torn one).
//
// DeletedSamplesIterator wraps a SampleIterator and hides samples inside any of a
// list of intervals; it is how queriers and the compactor apply tombstones.
//
// Thread-safety: TombstoneSet is a value type; const methods may run concurrently,
// Add() needs exclusive access. Iterators are single-threaded.
#ifndef CAIRN_TSDB_COMPACT_TOMBSTONES_H_
#define CAIRN_TSDB_COMPACT_TOMBSTONES_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tsdb/chunk/sample_iterator.h"
#include "tsdb/io/file_system.h"

namespace cairn::compact {

// A closed time range [mint_ms, maxt_ms] in milliseconds — both ends deleted, as in
// Prometheus' tombstones.Interval.
struct Interval {
  int64_t mint_ms;
  int64_t maxt_ms;

  bool Contains(int64_t t) const { return mint_ms <= t && t <= maxt_ms; }
  friend bool operator==(const Interval&, const Interval&) = default;
};

// Sorted, non-overlapping, non-adjacent intervals.
using Intervals = std::vector<Interval>;

// Adds `iv` to `*ivs`, merging it with every interval it overlaps or touches.
// REQUIRES: iv.mint_ms <= iv.maxt_ms; *ivs sorted and merged.
void AddInterval(Intervals* ivs, Interval iv);

// The name of the tombstones file inside a block directory.
inline constexpr std::string_view kTombstonesFileName = "tombstones";
// First four bytes of the file, big-endian (same value as Prometheus' tombstones magic).
inline constexpr uint32_t kTombstonesMagic = 0x0130BA30;
inline constexpr uint8_t kTombstonesVersion = 1;

class TombstoneSet {
 public:
  TombstoneSet() = default;

  // Marks [iv.mint_ms, iv.maxt_ms] of series `ref` deleted. An interval with
  // mint > maxt is ignored (nothing to delete).
  void Add(uint64_t ref, Interval iv);
  // Adds every interval of `other`.
  void Merge(const TombstoneSet& other);

  // The deleted intervals of `ref`, sorted and merged; empty when none.
  const Intervals& Get(uint64_t ref) const;

  bool empty() const { return by_ref_.empty(); }
  // Number of series with at least one interval.
  size_t num_series() const { return by_ref_.size(); }
  // Total number of intervals (the "num tombstones" statistic of a block meta).
  uint64_t num_intervals() const;
  // Series refs in increasing order with their intervals.
  const std::map<uint64_t, Intervals>& entries() const { return by_ref_; }

  // The file contents: magic, version, entries, CRC32C (docs/format/tombstones.md).
  std::string Encode() const;
  // Parses Encode()'s output. `file_name` names the source in errors. Any
  // truncation, bad magic, checksum mismatch, malformed entry or unknown version is
  // kDataLoss with a message naming the file and the fault.
  static absl::StatusOr<TombstoneSet> Decode(std::string_view data, std::string_view file_name);

  friend bool operator==(const TombstoneSet&, const TombstoneSet&) = default;

 private:
  std::map<uint64_t, Intervals> by_ref_;
};

// Reads `block_dir`/tombstones; a missing file is an empty set (blocks written
// without deletions need not carry one).
absl::StatusOr<TombstoneSet> ReadTombstones(io::FileSystem* fs, const std::string& block_dir);
// Replaces `block_dir`/tombstones atomically with `tombstones`.
absl::Status WriteTombstones(io::FileSystem* fs, const std::string& block_dir,
                             const TombstoneSet& tombstones);

// Yields the samples of `base` whose timestamps lie outside every interval of
// `deleted`. Allocates nothing per sample; the base's sticky error passes through.
class DeletedSamplesIterator final : public SampleIterator {
 public:
  // REQUIRES: `deleted` sorted and merged (as TombstoneSet::Get returns them).
  DeletedSamplesIterator(std::unique_ptr<SampleIterator> base, Intervals deleted);

  bool Next() override;
  bool Seek(int64_t t) override;
  int64_t t() const override { return base_->t(); }
  double v() const override { return base_->v(); }
  absl::Status status() const override { return base_->status(); }

 private:
  // From the base's current sample, skips forward past deleted ranges; false at end.
  bool SkipDeleted();

  std::unique_ptr<SampleIterator> base_;
  Intervals deleted_;
  size_t next_interval_ = 0;  // first interval whose maxt_ms >= the current sample
  bool positioned_ = false;   // whether the last call returned true
};

// Wraps `base` in a DeletedSamplesIterator when `deleted` is non-empty.
std::unique_ptr<SampleIterator> WithoutDeleted(std::unique_ptr<SampleIterator> base,
                                               const Intervals& deleted);

}  // namespace cairn::compact

#endif  // CAIRN_TSDB_COMPACT_TOMBSTONES_H_
