// FileSystem: the small file layer every tsdb module does its I/O through, so tests
// can replace it with one that injects faults (failed writes, a full disk, data lost
// because it was never fsynced). Modelled on LevelDB's Env.
//
// Durable-write discipline (STYLE.md #9): write a temporary file, Sync() it, Rename()
// it into place, then SyncDir() the parent — WriteFileAtomically() does all four.
//
// Thread-safety: a FileSystem is safe for concurrent use; a WritableFile is not (one
// writer at a time); a MappedFile is immutable and may be read from any thread.
#ifndef CAIRN_TSDB_IO_FILE_SYSTEM_H_
#define CAIRN_TSDB_IO_FILE_SYSTEM_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cairn::io {

// An append-only file. Destroying it without Close() closes it (errors ignored).
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual absl::Status Append(std::string_view data) = 0;
  // Hands buffered bytes to the OS (survives a process crash, not a machine crash).
  virtual absl::Status Flush() = 0;
  // Flush() then fdatasync(): the bytes survive power loss.
  virtual absl::Status Sync() = 0;
  // fdatasync() only: makes durable what earlier Flush() calls handed to the OS.
  // Unlike the other methods it may run concurrently with Append()/Flush() on the
  // same file (the WAL's group commit relies on this), but not with Close().
  virtual absl::Status DataSync() = 0;
  virtual absl::Status Close() = 0;
  // Bytes appended so far, including the file's size when it was opened for append.
  virtual uint64_t Size() const = 0;
  virtual const std::string& path() const = 0;
};

// A read-only memory mapping of a whole file, unmapped on destruction.
// An empty file maps to an empty view.
class MappedFile {
 public:
  virtual ~MappedFile() = default;
  virtual std::string_view data() const = 0;
  virtual const std::string& path() const = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // The process-wide POSIX file system. Never null, never destroyed.
  static FileSystem* Default();

  // Creates (or truncates) `path` for writing.
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path) = 0;
  // Opens `path` for appending, creating it if missing.
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(
      const std::string& path) = 0;
  virtual absl::StatusOr<std::unique_ptr<MappedFile>> MapFile(const std::string& path) = 0;
  virtual absl::StatusOr<std::string> ReadFile(const std::string& path) = 0;

  virtual absl::Status CreateDirs(const std::string& path) = 0;  // mkdir -p
  virtual absl::Status SyncDir(const std::string& path) = 0;
  virtual absl::Status Rename(const std::string& from, const std::string& to) = 0;
  // Makes `to` a hard link to the file `from` (snapshots share block files this way:
  // blocks never change in place, so a link is a consistent copy). Fails if `to` exists.
  virtual absl::Status Link(const std::string& from, const std::string& to) = 0;
  virtual absl::Status RemoveFile(const std::string& path) = 0;
  virtual absl::Status RemoveAll(const std::string& path) = 0;  // rm -rf; OK if missing
  virtual absl::Status Truncate(const std::string& path, uint64_t size) = 0;
  // Entry names (not paths) in `dir`, sorted, without "." and "..".
  virtual absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  virtual bool Exists(const std::string& path) = 0;
  virtual bool IsDirectory(const std::string& path) = 0;
  virtual absl::StatusOr<uint64_t> FileSize(const std::string& path) = 0;

  // Writes `data` to `path` durably: `path`.tmp, Sync, Rename, SyncDir(parent).
  absl::Status WriteFileAtomically(const std::string& path, std::string_view data);
  // Total size of the regular files under `dir`, recursively.
  absl::StatusOr<uint64_t> DirectorySize(const std::string& dir);
};

// Joins path components with '/'.
std::string JoinPath(std::string_view a, std::string_view b);
std::string JoinPath(std::string_view a, std::string_view b, std::string_view c);
// The directory part of `path` ("." when it has none).
std::string DirName(std::string_view path);

}  // namespace cairn::io

#endif  // CAIRN_TSDB_IO_FILE_SYSTEM_H_
