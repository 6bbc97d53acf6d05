// FaultInjectionFileSystem: a FileSystem wrapper for tests that simulates what a real
// machine does to a database on a bad day — a full disk, failing fsyncs, and power
// loss that discards every byte not yet fsynced (as LevelDB's FaultInjectionTestEnv).
//
//   FaultInjectionFileSystem fs(FileSystem::Default());
//   ... open the DB on &fs, write ...
//   fs.DropUnsyncedData();   // the "power cut": files shrink to their synced size
//
// Thread-safety: all methods may be called concurrently.
#ifndef CAIRN_TSDB_IO_FAULT_INJECTION_FILE_SYSTEM_H_
#define CAIRN_TSDB_IO_FAULT_INJECTION_FILE_SYSTEM_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "tsdb/io/file_system.h"

namespace cairn::io {

class FaultInjectionFileSystem final : public FileSystem {
 public:
  // `base` is borrowed and must outlive this object.
  explicit FaultInjectionFileSystem(FileSystem* base) : base_(base) {}

  // After `bytes` more bytes are appended (to any file), appends fail with
  // kResourceExhausted ("no space left on device") after writing the part that still
  // fits, as a full disk does; negative disables.
  void SetWriteBudget(int64_t bytes);
  // When true, Sync() and SyncDir() fail with kUnavailable.
  void SetFailSync(bool fail);
  // Truncates every file written through this object to the size it had at its last
  // successful Sync() (0 if never synced), as a power loss would.
  absl::Status DropUnsyncedData();
  uint64_t syncs() const;

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<MappedFile>> MapFile(const std::string& path) override {
    return base_->MapFile(path);
  }
  absl::StatusOr<std::string> ReadFile(const std::string& path) override {
    return base_->ReadFile(path);
  }
  absl::Status CreateDirs(const std::string& path) override { return base_->CreateDirs(path); }
  absl::Status SyncDir(const std::string& path) override;
  absl::Status Rename(const std::string& from, const std::string& to) override;
  // A pass-through: no test crashes a snapshot, so links are not tracked for sync.
  absl::Status Link(const std::string& from, const std::string& to) override {
    return base_->Link(from, to);
  }
  absl::Status RemoveFile(const std::string& path) override;
  absl::Status RemoveAll(const std::string& path) override;
  absl::Status Truncate(const std::string& path, uint64_t size) override;
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) override {
    return base_->ListDir(dir);
  }
  bool Exists(const std::string& path) override { return base_->Exists(path); }
  bool IsDirectory(const std::string& path) override { return base_->IsDirectory(path); }
  absl::StatusOr<uint64_t> FileSize(const std::string& path) override {
    return base_->FileSize(path);
  }

 private:
  friend class FaultInjectionWritableFile;

  // Called by files: charges the write budget and returns how many of `bytes` fit
  // (all of them when no budget is set).
  uint64_t ChargeWrite(uint64_t bytes);
  void RecordSynced(const std::string& path, uint64_t size);
  bool fail_sync() const;

  FileSystem* const base_;
  mutable absl::Mutex mu_;
  int64_t write_budget_ ABSL_GUARDED_BY(mu_) = -1;
  bool fail_sync_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t syncs_ ABSL_GUARDED_BY(mu_) = 0;
  // Files written through us -> size at last Sync.
  std::map<std::string, uint64_t> synced_size_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cairn::io

#endif  // CAIRN_TSDB_IO_FAULT_INJECTION_FILE_SYSTEM_H_
