// Replays fuzz targets' seed corpora in the ordinary (GCC, no libFuzzer) build, so ctest runs
// every fuzz target's body over fuzz/corpus/<target>/ on each change. Each fuzz/<target>.cpp is
// compiled into this binary with LLVMFuzzerTestOneInput renamed to zt_fuzz_<target> (see
// tests/CMakeLists.txt); a target's invariant failing traps, which fails the test.
//   zt_fuzz_replay <target> <corpus directory or file>...
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string_view>
#include <vector>

#define ZT_FUZZ_TARGET(name) extern "C" int zt_fuzz_##name(const uint8_t* data, size_t size);
#include "fuzz_targets.inc"
#undef ZT_FUZZ_TARGET

namespace {

struct Target {
  std::string_view name;
  int (*run)(const uint8_t*, size_t);
};

constexpr Target kTargets[] = {
#define ZT_FUZZ_TARGET(name) {#name, zt_fuzz_##name},
#include "fuzz_targets.inc"
#undef ZT_FUZZ_TARGET
};

int replay_file(const Target& target, const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  std::printf("%.*s: %s (%zu bytes)\n", static_cast<int>(target.name.size()), target.name.data(),
              path.c_str(), bytes.size());
  std::fflush(stdout);
  return target.run(bytes.data(), bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <target> <corpus dir or file>...\n", argv[0]);
    return 2;
  }
  const Target* target = nullptr;
  for (const auto& each : kTargets) {
    if (each.name == argv[1]) target = &each;
  }
  if (!target) {
    std::fprintf(stderr, "no fuzz target %s in this build\n", argv[1]);
    return 2;
  }
  size_t replayed = 0;
  for (int i = 2; i < argc; ++i) {
    std::filesystem::path path = argv[i];
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(path)) {
      for (const auto& entry : std::filesystem::directory_iterator(path)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
    } else {
      files.push_back(path);
    }
    for (const auto& file : files) {
      (void)replay_file(*target, file);
      ++replayed;
    }
  }
  std::printf("replayed %zu input(s) through %s\n", replayed, argv[1]);
  return replayed > 0 ? 0 : 1;
}
