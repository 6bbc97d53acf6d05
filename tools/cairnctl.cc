// cairnctl: the Cairn command-line tool. Sub-commands arrive with their issues
// (query, import, inspect, loadgen); this is the dispatcher.
#include <cstdio>
#include <string_view>

int main(int argc, char** argv) {
  if (argc < 2 || std::string_view(argv[1]) == "--help") {
    std::printf("usage: cairnctl <command> [args]\ncommands: (none yet)\n");
    return argc < 2 ? 2 : 0;
  }
  std::fprintf(stderr, "cairnctl: unknown command %s\n", argv[1]);
  return 2;
}
