#include "tsdb/io/fault_injection_file_system.h"

#include <algorithm>
#include <atomic>

#include "absl/strings/str_cat.h"
#include "tsdb/util/status_macros.h"

namespace cairn::io {

class FaultInjectionWritableFile final : public WritableFile {
 public:
  FaultInjectionWritableFile(FaultInjectionFileSystem* fs, std::unique_ptr<WritableFile> base)
      : fs_(fs), base_(std::move(base)) {}

  absl::Status Append(std::string_view data) override {
    const uint64_t granted = fs_->ChargeWrite(data.size());
    if (granted < data.size()) {
      // As a real full disk does: the part that fit is written, the rest is not.
      (void)base_->Append(data.substr(0, granted));
      return absl::ResourceExhaustedError(
          absl::StrCat("write ", base_->path(), ": no space left on device (injected)"));
    }
    return base_->Append(data);
  }
  absl::Status Sync() override {
    if (fs_->fail_sync()) {
      return absl::UnavailableError(
          absl::StrCat("fdatasync ", base_->path(), ": injected failure"));
    }
    CAIRN_RETURN_IF_ERROR(base_->Sync());
    fs_->RecordSynced(base_->path(), base_->Size());
    return absl::OkStatus();
  }
  absl::Status DataSync() override {
    if (fs_->fail_sync()) {
      return absl::UnavailableError(
          absl::StrCat("fdatasync ", base_->path(), ": injected failure"));
    }
    // Bytes flushed before this point become durable; count only those.
    const uint64_t size = flushed_size_.load();
    CAIRN_RETURN_IF_ERROR(base_->DataSync());
    fs_->RecordSynced(base_->path(), size);
    return absl::OkStatus();
  }
  absl::Status Flush() override {
    CAIRN_RETURN_IF_ERROR(base_->Flush());
    flushed_size_.store(base_->Size());
    return absl::OkStatus();
  }
  absl::Status Close() override { return base_->Close(); }
  uint64_t Size() const override { return base_->Size(); }
  const std::string& path() const override { return base_->path(); }

 private:
  FaultInjectionFileSystem* fs_;
  std::unique_ptr<WritableFile> base_;
  std::atomic<uint64_t> flushed_size_{0};
};

void FaultInjectionFileSystem::SetWriteBudget(int64_t bytes) {
  absl::MutexLock l(&mu_);
  write_budget_ = bytes;
}

void FaultInjectionFileSystem::SetFailSync(bool fail) {
  absl::MutexLock l(&mu_);
  fail_sync_ = fail;
}

bool FaultInjectionFileSystem::fail_sync() const {
  absl::MutexLock l(&mu_);
  return fail_sync_;
}

uint64_t FaultInjectionFileSystem::syncs() const {
  absl::MutexLock l(&mu_);
  return syncs_;
}

uint64_t FaultInjectionFileSystem::ChargeWrite(uint64_t bytes) {
  absl::MutexLock l(&mu_);
  if (write_budget_ < 0) return bytes;
  uint64_t granted = std::min<uint64_t>(bytes, static_cast<uint64_t>(write_budget_));
  write_budget_ -= static_cast<int64_t>(granted);
  return granted;
}

void FaultInjectionFileSystem::RecordSynced(const std::string& path, uint64_t size) {
  absl::MutexLock l(&mu_);
  synced_size_[path] = size;
  ++syncs_;
}

absl::StatusOr<std::unique_ptr<WritableFile>> FaultInjectionFileSystem::NewWritableFile(
    const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, base_->NewWritableFile(path));
  {
    absl::MutexLock l(&mu_);
    synced_size_[path] = 0;
  }
  return std::unique_ptr<WritableFile>(new FaultInjectionWritableFile(this, std::move(f)));
}

absl::StatusOr<std::unique_ptr<WritableFile>> FaultInjectionFileSystem::NewAppendableFile(
    const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, base_->NewAppendableFile(path));
  {
    absl::MutexLock l(&mu_);
    // What existed before we opened it is taken as durable.
    synced_size_.try_emplace(path, f->Size());
  }
  return std::unique_ptr<WritableFile>(new FaultInjectionWritableFile(this, std::move(f)));
}

absl::Status FaultInjectionFileSystem::SyncDir(const std::string& path) {
  if (fail_sync())
    return absl::UnavailableError(absl::StrCat("fsync ", path, ": injected failure"));
  return base_->SyncDir(path);
}

absl::Status FaultInjectionFileSystem::Rename(const std::string& from, const std::string& to) {
  CAIRN_RETURN_IF_ERROR(base_->Rename(from, to));
  absl::MutexLock l(&mu_);
  auto it = synced_size_.find(from);
  if (it != synced_size_.end()) {
    synced_size_[to] = it->second;
    synced_size_.erase(it);
  }
  return absl::OkStatus();
}

absl::Status FaultInjectionFileSystem::RemoveFile(const std::string& path) {
  CAIRN_RETURN_IF_ERROR(base_->RemoveFile(path));
  absl::MutexLock l(&mu_);
  synced_size_.erase(path);
  return absl::OkStatus();
}

absl::Status FaultInjectionFileSystem::RemoveAll(const std::string& path) {
  CAIRN_RETURN_IF_ERROR(base_->RemoveAll(path));
  absl::MutexLock l(&mu_);
  const std::string prefix = path + "/";
  for (auto it = synced_size_.begin(); it != synced_size_.end();) {
    if (it->first == path || it->first.compare(0, prefix.size(), prefix) == 0) {
      it = synced_size_.erase(it);
    } else {
      ++it;
    }
  }
  return absl::OkStatus();
}

absl::Status FaultInjectionFileSystem::Truncate(const std::string& path, uint64_t size) {
  CAIRN_RETURN_IF_ERROR(base_->Truncate(path, size));
  absl::MutexLock l(&mu_);
  auto it = synced_size_.find(path);
  if (it != synced_size_.end() && it->second > size) it->second = size;
  return absl::OkStatus();
}

absl::Status FaultInjectionFileSystem::DropUnsyncedData() {
  std::map<std::string, uint64_t> sizes;
  {
    absl::MutexLock l(&mu_);
    sizes = synced_size_;
  }
  for (const auto& [path, size] : sizes) {
    if (!base_->Exists(path)) continue;
    CAIRN_ASSIGN_OR_RETURN(uint64_t current, base_->FileSize(path));
    if (current > size) CAIRN_RETURN_IF_ERROR(base_->Truncate(path, size));
  }
  return absl::OkStatus();
}

}  // namespace cairn::io
