// Test helper: runs the cairnctl binary (build/bin/cairnctl, located through
// CAIRN_BINARY_DIR set by ctest) and captures its exit code and output.
#ifndef CAIRN_TESTS_TOOLS_CAIRNCTL_RUNNER_H_
#define CAIRN_TESTS_TOOLS_CAIRNCTL_RUNNER_H_

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <string>

namespace cairn::testing {

struct CairnctlResult {
  int exit_code = -1;
  std::string out;  // stdout, then stderr when `merge_stderr`
};

// `args` is passed through the shell; quote expressions.
inline CairnctlResult RunCairnctl(const std::string& args, bool merge_stderr = true) {
  const char* bin = getenv("CAIRN_BINARY_DIR");
  std::string cmd = std::string(bin ? bin : "build") + "/bin/cairnctl " + args +
                    (merge_stderr ? " 2>&1" : " 2>/dev/null");
  CairnctlResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// Single-quotes `s` for the shell.
inline std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_TOOLS_CAIRNCTL_RUNNER_H_
