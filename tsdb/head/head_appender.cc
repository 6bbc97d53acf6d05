#include "tsdb/head/head_appender.h"

#include "absl/strings/str_cat.h"
#include "tsdb/storage/append_error.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::head {

using storage::RejectedSampleError;
using storage::RejectReason;

namespace {
// Per thread: the buffers of the last appender destroyed here, for the next one.
// Buffers that grew past kMaxCachedSamples entries are dropped instead.
constexpr size_t kMaxCachedSamples = 1 << 16;
}  // namespace

// The cache is a plain thread_local of the private type, hence a static member
// function rather than a namespace-level variable.
HeadAppender::Buffers* HeadAppender::ThreadCache() {
  thread_local Buffers cache;
  return &cache;
}

HeadAppender::HeadAppender(Head* head)
    : head_(head), durability_(head->options_.commit_durability) {
  std::swap(b_, *ThreadCache());
}

HeadAppender::~HeadAppender() {
  if (b_.pending.capacity() > kMaxCachedSamples) return;
  b_.pending.clear();
  b_.series_recs.clear();
  b_.sample_recs.clear();
  for (std::string& r : b_.records) r.clear();
  std::swap(b_, *ThreadCache());
}

std::unique_ptr<storage::Appender> Head::NewAppender() {
  return std::make_unique<HeadAppender>(this);
}

absl::Status HeadAppender::ValidateLabels(const Labels& labels) const {
  if (labels.empty()) {
    return RejectedSampleError(RejectReason::kInvalidLabels, labels, 0, "empty label set");
  }
  std::string_view metric = labels.MetricName();
  if (metric.empty()) {
    return RejectedSampleError(RejectReason::kInvalidLabels, labels, 0, "missing metric name");
  }
  if (!IsValidMetricName(metric)) {
    return RejectedSampleError(RejectReason::kInvalidLabels, labels, 0,
                               absl::StrCat("invalid metric name \"", Sv(metric), "\""));
  }
  // Labels keeps names sorted and unique, so a duplicate shows as equal neighbours
  // only if it was built unchecked (FromEncoded); check both anyway.
  std::string_view prev;
  bool first = true;
  for (const Label& l : labels) {
    if (l.name != kMetricNameLabel && !IsValidLabelName(l.name)) {
      return RejectedSampleError(RejectReason::kInvalidLabels, labels, 0,
                                 absl::StrCat("invalid label name \"", Sv(l.name), "\""));
    }
    if (!first && l.name <= prev) {
      return RejectedSampleError(RejectReason::kInvalidLabels, labels, 0,
                                 absl::StrCat("duplicate label name \"", Sv(l.name), "\""));
    }
    prev = l.name;
    first = false;
  }
  return absl::OkStatus();
}

absl::StatusOr<storage::SeriesRef> HeadAppender::Append(storage::SeriesRef ref,
                                                        const Labels& labels, int64_t t_ms,
                                                        double value) {
  MemSeries* s = ref != 0 ? head_->series_.GetByRef(ref) : nullptr;
  // A ref from an earlier head (or a truncated series) must not hit a different series.
  if (s != nullptr && !labels.empty() && !(s->labels() == labels)) s = nullptr;
  if (s == nullptr) {
    s = head_->series_.GetByLabels(labels);
    if (s == nullptr) {
      absl::Status st = ValidateLabels(labels);
      if (!st.ok()) {
        head_->CountReject(RejectReason::kInvalidLabels);
        return st;
      }
      if (size_t limit = head_->options_.max_series; limit != 0 && head_->series_.size() >= limit) {
        head_->CountReject(RejectReason::kLimit);
        return RejectedSampleError(
            RejectReason::kLimit, labels, t_ms,
            absl::StrCat("new series refused: the head holds ", head_->series_.size(),
                         " series, the limit is ", limit));
      }
      auto [created, is_new] = head_->series_.GetOrCreate(labels);
      s = created;
      if (is_new) head_->IndexSeries(*s);
    }
  }
  if (int64_t bound = head_->AppendableMinValidTime(); t_ms < bound) {
    head_->CountReject(RejectReason::kTooOld);
    return RejectedSampleError(RejectReason::kTooOld, s->labels(), t_ms,
                               absl::StrCat("older than the head's lower bound ", bound));
  }
  AppendCheck check = AppendCheck::kOk;
  if (!s->NewerThanNewest(t_ms)) {
    absl::MutexLock l(&s->mu());
    check = s->Check(t_ms, value);
  }
  switch (check) {
    case AppendCheck::kOk:
      b_.pending.push_back(Pending{s, t_ms, value});
      break;
    case AppendCheck::kIdentical:
      break;
    case AppendCheck::kOutOfOrder:
      head_->CountReject(RejectReason::kOutOfOrder);
      return RejectedSampleError(RejectReason::kOutOfOrder, s->labels(), t_ms,
                                 "older than the newest sample of the series");
    case AppendCheck::kDuplicate:
      head_->CountReject(RejectReason::kDuplicate);
      return RejectedSampleError(RejectReason::kDuplicate, s->labels(), t_ms,
                                 "same timestamp as the newest sample, different value");
  }
  return s->ref();
}

absl::Status HeadAppender::Commit() {
  if (!b_.pending.empty()) {
    // Records are encoded and logged under the head's WAL lock (which also guards
    // each series' `logged` flag, so its series record precedes its samples); the
    // fsync happens after the lock is released, shared with concurrent commits.
    absl::ReleasableMutexLock wl(&head_->wal_mu_);
    if (head_->wal_ != nullptr) {
      b_.series_recs.clear();
      b_.sample_recs.clear();
      for (const Pending& p : b_.pending) {
        if (!p.series->logged) {
          p.series->logged = true;  // undone below if the write fails
          b_.series_recs.push_back(wal::SeriesRecord{p.series->ref(), p.series->labels()});
        }
        b_.sample_recs.push_back(wal::SampleRecord{p.series->ref(), p.t, p.v});
      }
      b_.records.resize(b_.series_recs.empty() ? 1 : 2);
      size_t i = 0;
      if (!b_.series_recs.empty()) {
        b_.records[i].clear();
        wal::EncodeSeries(b_.series_recs, &b_.records[i++]);
      }
      b_.records[i].clear();
      wal::EncodeSamples(b_.sample_recs, &b_.records[i]);
      uint64_t seq = 0;
      wal::Wal* wal = head_->wal_.get();
      absl::Status st = wal->Log(b_.records, &seq);
      wl.Release();
      if (st.ok()) {
        st = durability_ == storage::CommitDurability::kFsync ? wal->SyncUpTo(seq)
                                                              : wal->FlushUpTo(seq);
      }
      if (!st.ok()) {
        absl::MutexLock relock(&head_->wal_mu_);
        for (const wal::SeriesRecord& r : b_.series_recs) {
          if (MemSeries* s = head_->series_.GetByRef(r.ref)) s->logged = false;
        }
        b_.pending.clear();
        return absl::Status(st.code(), absl::StrCat("head commit: WAL write failed, batch "
                                                    "dropped: ",
                                                    st.message()));
      }
    }
  }
  int64_t appended = 0, chunks_cut = 0, ooo = 0, dup = 0, too_old = 0;
  int64_t mint = INT64_MAX, maxt = INT64_MIN;
  absl::ReaderMutexLock fence(&head_->commit_fence_);
  const int64_t min_valid = head_->min_valid_time();
  for (const Pending& p : b_.pending) {
    if (p.t < min_valid) {  // the range was cut into a block since Append()
      ++too_old;
      continue;
    }
    absl::MutexLock l(&p.series->mu());
    switch (p.series->Check(p.t, p.v)) {
      case AppendCheck::kOk:
        break;
      case AppendCheck::kIdentical:
        continue;
      case AppendCheck::kOutOfOrder:
        ++ooo;
        continue;
      case AppendCheck::kDuplicate:
        ++dup;
        continue;
    }
    bool was_empty = p.series->open_chunk().num_samples() == 0;
    if (p.series->Append(p.t, p.v, head_->options_.chunk_range_ms, head_->arena_.get()) ||
        was_empty) {
      ++chunks_cut;
    }
    ++appended;
    mint = std::min(mint, p.t);
    maxt = std::max(maxt, p.t);
  }
  b_.pending.clear();
  if (ooo) head_->CountReject(RejectReason::kOutOfOrder, ooo);
  if (dup) head_->CountReject(RejectReason::kDuplicate, dup);
  if (too_old) head_->CountReject(RejectReason::kTooOld, too_old);
  if (appended) {
    head_->samples_appended_.fetch_add(appended, std::memory_order_relaxed);
    head_->num_chunks_.fetch_add(chunks_cut, std::memory_order_relaxed);
    head_->UpdateTimeRange(mint, maxt);
  }
  return absl::OkStatus();
}

void HeadAppender::Rollback() { b_.pending.clear(); }

}  // namespace cairn::head
