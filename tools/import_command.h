// `cairnctl import`: backfills a file in the Prometheus text format or OpenMetrics
// (every sample WITH a timestamp) into blocks of a data directory, as
// `promtool tsdb create-blocks-from openmetrics` does.
//
//   cairnctl import [--block-duration=2h] [--prometheus-compatible-blocks] FILE DATA_DIR
//
// The file is memory-mapped and parsed with scrape::TextParser (OpenMetrics when it
// ends with "# EOF", the text format otherwise). Samples are grouped by series and
// then by block range: ranges are aligned to multiples of the block duration (from
// the epoch), and each range with data becomes one level-1 block whose
// [min_time, max_time) is that of its samples. Within a series samples are sorted by
// time; exact duplicates (same time, bit-identical value) are dropped, differing ones
// are an error naming the series and both lines. Each block is written under
// DATA_DIR/<ULID>.tmp-for-creation and renamed into place once complete, so a
// failure leaves no partial block behind (blocks finished before it stay).
//
// Memory: every sample of the file is held at once, 16 bytes per sample plus one
// Labels and a vector per series, besides the mapped file.
//
// Thread-safety: free functions without shared state.
#ifndef CAIRN_TOOLS_IMPORT_COMMAND_H_
#define CAIRN_TOOLS_IMPORT_COMMAND_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "tsdb/io/file_system.h"

namespace cairn::tools {

struct ImportOptions {
  int64_t block_duration_ms = 2 * 3600 * 1000;
  // Keep every chunk in Prometheus' XOR encoding so that Prometheus and promtool can
  // read the blocks; otherwise chunks are packed where smaller (docs/format/chunks.md).
  bool prometheus_compatible_blocks = false;
};

struct ImportedBlock {
  std::string ulid;
  int64_t min_time = 0;  // inclusive, ms
  int64_t max_time = 0;  // exclusive, ms
  uint64_t num_series = 0;
  uint64_t num_samples = 0;
  uint64_t num_chunks = 0;
};

// Imports `content` (the file's bytes) into blocks under `data_dir` (created if
// missing), returning the blocks in time order. Errors: kInvalidArgument naming the
// line for a malformed line, a sample without a timestamp, a conflicting duplicate
// sample (also naming the series), or a file without samples; I/O errors as the
// file system reports them.
absl::StatusOr<std::vector<ImportedBlock>> ImportText(io::FileSystem* fs, std::string_view content,
                                                      const std::string& data_dir,
                                                      const ImportOptions& options);

// The subcommand: argv[first..] are its arguments (after "import"). Prints a summary
// line per block to stdout and errors to stderr; returns the process exit code (0 ok,
// 1 import failed, 2 usage).
int ImportCommand(int argc, char** argv, int first);

}  // namespace cairn::tools

#endif  // CAIRN_TOOLS_IMPORT_COMMAND_H_
