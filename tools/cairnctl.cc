// cairnctl: Cairn's command-line tool.
//   cairnctl loadgen --url=http://localhost:9090/api/v1/write [--series=N --rounds=N
//                    --interval=15s --concurrency=N --batch=N]
//   cairnctl loadgen --grpc=localhost:9095 ...
//   cairnctl inspect wal DIR
//   cairnctl inspect blocks DIR
//   cairnctl check config FILE...
//   cairnctl query [range] ... EXPR   (tools/query_command.h)
//   cairnctl import ... FILE DATA_DIR (tools/import_command.h)
#include <glob.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "server/config/config.h"
#include "server/rules/rule_file.h"
#include "tools/import_command.h"
#include "tools/loadgen.h"
#include "tools/query_command.h"
#include "tsdb/block/block.h"
#include "tsdb/block/ulid.h"
#include "tsdb/io/file_system.h"
#include "tsdb/util/absl_compat.h"
#include "tsdb/wal/record.h"
#include "tsdb/wal/replay.h"

namespace {

int Usage() {
  std::fprintf(
      stderr,
      "usage: cairnctl <command> [flags]\n"
      "commands:\n"
      "  loadgen  --url=URL | --grpc=HOST:PORT  [--series=10000] [--rounds=40]\n"
      "           [--interval-ms=15000] [--concurrency=4] [--batch=500] [--quiet]\n"
      "           remote-write load; prints samples/s and errors\n"
      "  inspect wal DIR   summary of a WAL directory (records, series, samples)\n"
      "  inspect blocks DIR  verify a block, or every block of a data dir, naming any damage\n"
      "  check config FILE...  validate Prometheus config files without starting;\n"
      "           exit code 1 when any is invalid\n"
      "  check rules FILE...   validate Prometheus rule files (as promtool check rules);\n"
      "           exit code 1 when any is invalid\n"
      "  query [--url=http://127.0.0.1:9090] [--format=table|json] [--time=T] EXPR\n"
      "  query range --start=T --end=T --step=S [--url=..] [--format=..] EXPR\n"
      "           PromQL against a server's HTTP API; exit 1 on an API error\n"
      "  import [--block-duration=2h] [--prometheus-compatible-blocks] FILE DATA_DIR\n"
      "           backfill a text-format/OpenMetrics file with timestamps into blocks\n");
  return 2;
}

// Parses --key=value flags from argv[first..].
bool ParseFlags(int argc, char** argv, int first, std::map<std::string, std::string>* out) {
  for (int i = first; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.substr(0, 2) != "--") return false;
    a.remove_prefix(2);
    size_t eq = a.find('=');
    (*out)[std::string(a.substr(0, eq))] =
        eq == std::string_view::npos ? "true" : std::string(a.substr(eq + 1));
  }
  return true;
}

bool GetInt(const std::map<std::string, std::string>& f, const std::string& k, int64_t* v) {
  auto it = f.find(k);
  if (it == f.end()) return true;
  if (!absl::SimpleAtoi(it->second, v)) {
    std::fprintf(stderr, "cairnctl: --%s: not an integer: %s\n", k.c_str(), it->second.c_str());
    return false;
  }
  return true;
}

int Loadgen(int argc, char** argv) {
  std::map<std::string, std::string> f;
  if (!ParseFlags(argc, argv, 2, &f)) return Usage();
  cairn::tools::LoadgenOptions o;
  if (f.count("url")) o.url = f["url"];
  if (f.count("grpc")) o.grpc_target = f["grpc"];
  int64_t conc = o.concurrency;
  if (!GetInt(f, "series", &o.series) || !GetInt(f, "rounds", &o.rounds) ||
      !GetInt(f, "interval-ms", &o.interval_ms) || !GetInt(f, "concurrency", &conc) ||
      !GetInt(f, "batch", &o.batch_series) || !GetInt(f, "start-ms", &o.start_ms)) {
    return 2;
  }
  o.concurrency = static_cast<int>(conc);
  o.progress = !f.count("quiet");
  absl::StatusOr<cairn::tools::LoadgenResult> r = cairn::tools::RunLoadgen(o);
  if (!r.ok()) {
    std::fprintf(stderr, "cairnctl: %s\n", std::string(r.status().message()).c_str());
    return 2;
  }
  std::printf("samples=%lld requests=%lld errors=%lld seconds=%.3f samples_per_second=%.0f\n",
              static_cast<long long>(r->samples_sent), static_cast<long long>(r->requests),
              static_cast<long long>(r->errors), r->seconds, r->samples_sent / r->seconds);
  if (r->errors > 0) {
    std::fprintf(stderr, "cairnctl: first error: %s\n", r->first_error.c_str());
    return 1;
  }
  return 0;
}

int InspectWal(const std::string& dir) {
  cairn::wal::ReplayHandler h;
  auto stats = cairn::wal::Replay(cairn::io::FileSystem::Default(), dir, h);
  if (!stats.ok()) {
    std::fprintf(stderr, "cairnctl: %s\n", std::string(stats.status().message()).c_str());
    return 1;
  }
  std::printf("wal %s: records=%llu series=%llu samples=%llu tombstones=%llu\n", dir.c_str(),
              static_cast<unsigned long long>(stats->records),
              static_cast<unsigned long long>(stats->series),
              static_cast<unsigned long long>(stats->samples),
              static_cast<unsigned long long>(stats->tombstones));
  if (stats->tail_corrupted) {
    std::printf("damage: %s\n", stats->corruption.c_str());
    return 1;
  }
  return 0;
}

// Opens and fully verifies each block (one block dir, or every block of a data dir):
// prints its meta and either "ok" or the first damage found.
int InspectBlocks(const std::string& path) {
  cairn::io::FileSystem* fs = cairn::io::FileSystem::Default();
  std::vector<std::string> dirs;
  if (fs->Exists(path + "/meta.json")) {
    dirs.push_back(path);
  } else {
    auto names = fs->ListDir(path);
    if (!names.ok()) {
      std::fprintf(stderr, "cairnctl: %s\n", names.status().ToString().c_str());
      return 1;
    }
    std::sort(names->begin(), names->end());
    for (const auto& n : *names) {
      if (cairn::block::IsUlid(n)) dirs.push_back(path + "/" + n);
    }
  }
  int damaged = 0;
  for (const std::string& d : dirs) {
    auto b = cairn::block::Block::Open(fs, d);
    absl::Status s = b.ok() ? (*b)->Verify() : b.status();
    if (b.ok()) {
      const auto& m = (*b)->meta();
      std::printf(
          "block %s: [%lld, %lld) level=%d series=%llu chunks=%llu samples=%llu bytes=%llu ",
          m.ulid.c_str(), static_cast<long long>(m.min_time), static_cast<long long>(m.max_time),
          m.level, static_cast<unsigned long long>(m.num_series),
          static_cast<unsigned long long>(m.num_chunks),
          static_cast<unsigned long long>(m.num_samples),
          static_cast<unsigned long long>((*b)->size_bytes()));
    } else {
      std::printf("block %s: ", d.c_str());
    }
    if (s.ok()) {
      std::printf("ok\n");
    } else {
      std::printf("DAMAGED: %s\n", s.ToString().c_str());
      ++damaged;
    }
  }
  return damaged > 0 ? 1 : 0;
}

}  // namespace

namespace {

size_t GlobCount(const std::string& pattern) {
  glob_t g{};
  size_t n = glob(pattern.c_str(), 0, nullptr, &g) == 0 ? g.gl_pathc : 0;
  globfree(&g);
  return n;
}

// promtool check config: loads the file as the server would and checks that the
// files it names (credentials, TLS) exist. Returns the error, or "" when valid.
std::string CheckConfigFile(const std::string& path, std::vector<std::string>* warnings,
                            size_t* rule_files) {
  absl::StatusOr<cairn::config::Config> cfg = cairn::config::LoadConfigFile(path);
  if (!cfg.ok()) return std::string(cfg.status().message());
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  auto resolve = [&](const std::string& f) {
    std::filesystem::path p(f);
    return (p.is_relative() ? dir / p : p).string();
  };
  auto must_exist = [&](const std::string& what, const std::string& f,
                        const std::string& job) -> std::string {
    if (f.empty() || access(resolve(f).c_str(), R_OK) == 0) return "";
    return "error checking " + what + " file \"" + f + "\" of job \"" + job +
           "\": no such file or not readable";
  };
  for (const auto& sc : cfg->scrape_configs) {
    for (const auto& [what, f] : std::vector<std::pair<std::string, std::string>>{
             // The files promtool 2.42 checks (not the CA or password file).
             {"authorization credentials or bearer token", sc.authorization.credentials_file},
             {"client cert", sc.tls_config.cert_file},
             {"client key", sc.tls_config.key_file}}) {
      std::string err = must_exist(what, f, sc.job_name);
      if (!err.empty()) return err;
    }
    for (const auto& fsd : sc.file_sd_configs) {
      for (const std::string& f : fsd.files) {
        if (GlobCount(resolve(f)) == 0) {
          warnings->push_back("file \"" + f + "\" for file_sd in scrape job \"" + sc.job_name +
                              "\" does not exist");
        }
      }
    }
  }
  *rule_files = 0;
  for (const std::string& r : cfg->rule_files) *rule_files += GlobCount(resolve(r));
  return "";
}

// promtool check rules: parses and validates a file as the server loads it. Returns
// false (after printing the problems) when it is invalid.
bool CheckRuleFile(const std::string& path) {
  std::printf("Checking %s\n", path.c_str());
  absl::StatusOr<std::vector<cairn::rules::RuleGroupSpec>> groups =
      cairn::rules::LoadRuleFile(path);
  if (!groups.ok()) {
    std::fflush(stdout);
    std::fprintf(stderr, "  FAILED:\n%s\n", std::string(groups.status().message()).c_str());
    return false;
  }
  size_t rules = 0;
  for (const auto& g : *groups) rules += g.rules.size();
  std::printf("  SUCCESS: %zu rules found\n", rules);
  return true;
}

int CheckRules(int argc, char** argv) {
  if (argc < 4) return Usage();
  int rc = 0;
  for (int i = 3; i < argc; ++i) {
    if (!CheckRuleFile(argv[i])) rc = 1;
  }
  return rc;
}

int CheckConfig(int argc, char** argv) {
  if (argc < 4) return Usage();
  int rc = 0;
  for (int i = 3; i < argc; ++i) {
    std::printf("Checking %s\n", argv[i]);
    std::vector<std::string> warnings;
    size_t rule_files = 0;
    std::string err = CheckConfigFile(argv[i], &warnings, &rule_files);
    for (const std::string& w : warnings) std::printf("  WARNING: %s\n", w.c_str());
    if (!err.empty()) {
      std::fflush(stdout);
      std::fprintf(stderr, "  FAILED: %s\n", err.c_str());
      rc = 1;
    } else {
      std::printf("  SUCCESS: %zu rule files found\n", rule_files);
      // As promtool: the rule files the config names are checked too.
      absl::StatusOr<cairn::config::Config> cfg = cairn::config::LoadConfigFile(argv[i]);
      absl::StatusOr<std::vector<std::string>> files =
          cfg.ok() ? cairn::rules::ExpandRuleFileGlobs(
                         cfg->rule_files, std::filesystem::path(argv[i]).parent_path().string())
                   : absl::StatusOr<std::vector<std::string>>(cfg.status());
      if (!files.ok()) {
        std::fprintf(stderr, "  FAILED: %s\n", std::string(files.status().message()).c_str());
        rc = 1;
        continue;
      }
      for (const std::string& f : *files) {
        std::printf("\n");
        if (!CheckRuleFile(f)) rc = 1;
      }
    }
  }
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (argc < 2) return Usage();
  std::string_view cmd = argv[1];
  if (cmd == "--help" || cmd == "help") {
    Usage();
    return 0;
  }
  if (cmd == "loadgen") return Loadgen(argc, argv);
  if (cmd == "query") return cairn::tools::QueryCommand(argc, argv, 2);
  if (cmd == "import") return cairn::tools::ImportCommand(argc, argv, 2);
  if (cmd == "check" && argc >= 3 && std::string_view(argv[2]) == "config") {
    return CheckConfig(argc, argv);
  }
  if (cmd == "check" && argc >= 3 && std::string_view(argv[2]) == "rules") {
    return CheckRules(argc, argv);
  }
  if (cmd == "inspect" && argc == 4 && std::string_view(argv[2]) == "wal")
    return InspectWal(argv[3]);
  if (cmd == "inspect" && argc == 4 && std::string_view(argv[2]) == "blocks")
    return InspectBlocks(argv[3]);
  std::fprintf(stderr, "cairnctl: unknown command %s\n", argv[1]);
  return Usage();
}
