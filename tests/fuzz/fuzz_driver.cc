// Regression driver for the fuzz targets when they are built without libFuzzer
// (the normal GCC build): runs LLVMFuzzerTestOneInput over every file of the corpus
// directories given as arguments, so the seed corpus and every crash once found and
// saved there are replayed by ctest on each build.
#include <dirent.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

int RunFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string data = ss.str();
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int ran = 0;
  for (int i = 1; i < argc; ++i) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      std::fprintf(stderr, "fuzz driver: cannot stat %s\n", argv[i]);
      return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
      ran += RunFile(argv[i]);
      continue;
    }
    DIR* d = opendir(argv[i]);
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      ran += RunFile(std::string(argv[i]) + "/" + e->d_name);
    }
    closedir(d);
  }
  std::printf("fuzz driver: %d inputs ran without a crash\n", ran);
  return ran > 0 ? 0 : 1;
}
