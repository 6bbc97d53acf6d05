// ChunkArena: keeps the bytes of full (closed) head chunks out of the heap, in
// memory-mapped files under the head's chunk directory — Cairn's counterpart of
// Prometheus' mmapped head chunks. A closed chunk never changes, so it is written
// once (pwrite) and read through a read-only shared mapping: its pages live in the
// page cache, enter the process' RSS only while queries touch them, and the kernel
// can drop them under memory pressure. Only the open chunk of each series stays on
// the heap, which keeps active-series memory low.
//
// The files are a cache, not a durability mechanism: the WAL holds every sample, so
// Open() wipes the directory and the head rebuilds the chunks on replay. If a file
// cannot be created or grown (disk full), Add() returns nullptr and the caller keeps
// the chunk on the heap: memory grows, no data is lost.
//
// Lifetime: pointers returned by Add() stay valid until ReleaseBefore(t) with t
// greater than the max time given for them (the head drops those chunks first) and
// every Pin taken before that release is dropped. Files are shared-owned: a released
// file leaves the arena at once but is unmapped and deleted only when the last Pin
// holding it goes, so a query can read closed chunks in place, without copying them,
// while the head truncates under it.
// Thread-safety: all methods may be called concurrently.
#ifndef CAIRN_TSDB_HEAD_CHUNK_ARENA_H_
#define CAIRN_TSDB_HEAD_CHUNK_ARENA_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace cairn::head {

class ChunkArena {
 public:
  static constexpr size_t kDefaultFileSize = 64u << 20;

  // Creates `dir` (removing files a previous run left there).
  static absl::StatusOr<std::unique_ptr<ChunkArena>> Open(std::string dir,
                                                          size_t file_size = kDefaultFileSize);
  ~ChunkArena();

  // Copies `bytes` into the arena; `max_time` is the chunk's last timestamp. Returns
  // a pointer to the copy, or nullptr if the arena cannot take it.
  const char* Add(std::string_view bytes, int64_t max_time);

  // Releases every file, other than the one being filled, whose chunks all end
  // before `t`: unmapped and deleted now, or when the last Pin holding it is dropped.
  void ReleaseBefore(int64_t t);

  // Keeps every file the arena holds now mapped until the returned handle (and its
  // copies) is dropped: pointers from earlier Add() calls stay valid that long, even
  // across ReleaseBefore() and the arena's destruction.
  using Pin = std::shared_ptr<const void>;
  Pin PinFiles() const;

  size_t num_files() const;
  uint64_t bytes_written() const;

 private:
  // One mapped file; unmapped, closed and (if not yet) deleted by its destructor.
  // The arena deletes it (Unlink) when it releases it, before the last Pin may go.
  // `used`, `max_time` and `unlinked` are guarded by the arena's mu_ while the file is
  // in files_; afterwards nothing writes them.
  struct File {
    File(std::string p, size_t s) : path(std::move(p)), size(s) {}
    File(const File&) = delete;
    File& operator=(const File&) = delete;
    ~File();
    void Unlink();
    const std::string path;
    const size_t size;
    int fd = -1;
    char* base = nullptr;
    size_t used = 0;
    int64_t max_time = INT64_MIN;
    bool unlinked = false;
  };

  ChunkArena(std::string dir, size_t file_size) : dir_(std::move(dir)), file_size_(file_size) {}
  bool NewFile() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string dir_;
  const size_t file_size_;
  mutable absl::Mutex mu_;
  std::deque<std::shared_ptr<File>> files_ ABSL_GUARDED_BY(mu_);  // the last one is being filled
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t bytes_written_ ABSL_GUARDED_BY(mu_) = 0;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;  // stop retrying after an I/O error
};

}  // namespace cairn::head

#endif  // CAIRN_TSDB_HEAD_CHUNK_ARENA_H_
