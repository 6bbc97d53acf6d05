#include "tsdb/io/file_system.h"

#include "absl/strings/str_cat.h"
#include "tsdb/util/absl_compat.h"
#include "tsdb/util/status_macros.h"

namespace cairn::io {

absl::Status FileSystem::WriteFileAtomically(const std::string& path, std::string_view data) {
  const std::string tmp = absl::StrCat(path, ".tmp");
  {
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, NewWritableFile(tmp));
    CAIRN_RETURN_IF_ERROR(f->Append(data));
    CAIRN_RETURN_IF_ERROR(f->Sync());
    CAIRN_RETURN_IF_ERROR(f->Close());
  }
  CAIRN_RETURN_IF_ERROR(Rename(tmp, path));
  return SyncDir(DirName(path));
}

absl::StatusOr<uint64_t> FileSystem::DirectorySize(const std::string& dir) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> entries, ListDir(dir));
  uint64_t total = 0;
  for (const std::string& e : entries) {
    std::string p = JoinPath(dir, e);
    if (IsDirectory(p)) {
      CAIRN_ASSIGN_OR_RETURN(uint64_t sub, DirectorySize(p));
      total += sub;
    } else {
      absl::StatusOr<uint64_t> size = FileSize(p);
      if (size.ok()) total += *size;  // a file removed meanwhile counts as empty
    }
  }
  return total;
}

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (a.back() == '/') return absl::StrCat(Sv(a), Sv(b));
  return absl::StrCat(Sv(a), "/", Sv(b));
}

std::string JoinPath(std::string_view a, std::string_view b, std::string_view c) {
  return JoinPath(JoinPath(a, b), c);
}

std::string DirName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

}  // namespace cairn::io
