#include "tsdb/head/chunk_arena.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "absl/strings/str_format.h"

namespace cairn::head {

absl::StatusOr<std::unique_ptr<ChunkArena>> ChunkArena::Open(std::string dir, size_t file_size) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrFormat("head chunk arena: create %s: %s", dir, ec.message()));
  }
  return std::unique_ptr<ChunkArena>(new ChunkArena(std::move(dir), file_size));
}

ChunkArena::~ChunkArena() {
  absl::MutexLock l(&mu_);
  for (auto& f : files_) f->Unlink();
  files_.clear();  // files still pinned stay mapped until their last Pin goes
}

void ChunkArena::File::Unlink() {
  if (!unlinked) unlink(path.c_str());
  unlinked = true;
}

ChunkArena::File::~File() {
  if (base != nullptr) munmap(base, size);
  if (fd >= 0) close(fd);
  Unlink();
}

bool ChunkArena::NewFile() {
  auto f = std::make_shared<File>(absl::StrFormat("%s/%08d", dir_, next_seq_++), file_size_);
  // Drops the half-made file, keeping errno for the caller's message.
  auto fail = [&f] {
    const int err = errno;
    f.reset();
    errno = err;
    return false;
  };
  f->fd = open(f->path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (f->fd < 0) return fail();
  // Sparse: blocks are allocated as chunks are written.
  if (ftruncate(f->fd, static_cast<off_t>(file_size_)) != 0) return fail();
  void* p = mmap(nullptr, file_size_, PROT_READ, MAP_SHARED, f->fd, 0);
  if (p == MAP_FAILED) return fail();
  f->base = static_cast<char*>(p);
  files_.push_back(std::move(f));
  return true;
}

const char* ChunkArena::Add(std::string_view bytes, int64_t max_time) {
  if (bytes.empty() || bytes.size() > file_size_) return nullptr;
  absl::MutexLock l(&mu_);
  if (broken_) return nullptr;
  if (files_.empty() || files_.back()->used + bytes.size() > file_size_) {
    if (!NewFile()) {
      std::fprintf(stderr,
                   "head: chunk arena %s: cannot create file (%s); keeping chunks on the heap\n",
                   dir_.c_str(), std::strerror(errno));
      broken_ = true;
      return nullptr;
    }
  }
  File& f = *files_.back();
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n =
        pwrite(f.fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(f.used + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // Disk full or I/O error: the mapped range would read zeros, so refuse.
      std::fprintf(stderr, "head: chunk arena %s: write failed (%s); keeping chunks on the heap\n",
                   f.path.c_str(), std::strerror(errno));
      broken_ = true;
      return nullptr;
    }
    done += static_cast<size_t>(n);
  }
  const char* p = f.base + f.used;
  f.used += bytes.size();
  f.max_time = std::max(f.max_time, max_time);
  bytes_written_ += bytes.size();
  return p;
}

void ChunkArena::ReleaseBefore(int64_t t) {
  absl::MutexLock l(&mu_);
  while (files_.size() > 1 && files_.front()->max_time < t) {
    // The name goes now (a pinned file must not hold it: a later arena in the same
    // directory reuses names); the pages go with the last Pin.
    files_.front()->Unlink();
    files_.pop_front();
  }
  // Files after a still-live one stay until it goes: chunks close in roughly time
  // order, so a newer file rarely ends earlier, and keeping it is only space.
}

ChunkArena::Pin ChunkArena::PinFiles() const {
  absl::MutexLock l(&mu_);
  if (files_.empty()) return nullptr;
  return std::make_shared<const std::vector<std::shared_ptr<File>>>(files_.begin(), files_.end());
}

size_t ChunkArena::num_files() const {
  absl::MutexLock l(&mu_);
  return files_.size();
}

uint64_t ChunkArena::bytes_written() const {
  absl::MutexLock l(&mu_);
  return bytes_written_;
}

}  // namespace cairn::head
