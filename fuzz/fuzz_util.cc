#include "fuzz/fuzz_util.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <vector>

namespace bitsweep::fuzz {
namespace {

std::string ScratchParent() {
  const char* tmpdir = std::getenv("TMPDIR");
  if (tmpdir != nullptr && *tmpdir != '\0') return tmpdir;
  return std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
}

std::string* scratch_dir = nullptr;

void RemoveScratchDir() {
  std::error_code ignored;
  if (scratch_dir != nullptr) std::filesystem::remove_all(*scratch_dir, ignored);
}

}  // namespace

void Require(bool holds, const std::string& what) {
  if (holds) return;
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what.c_str());
  std::fflush(stderr);
  __builtin_trap();
}

const std::string& ScratchDir() {
  if (scratch_dir == nullptr) {
    std::string pattern = ScratchParent() + "/bitsweep-fuzz-XXXXXX";
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    Require(mkdtemp(name.data()) != nullptr, "cannot create a scratch folder under " + ScratchParent());
    scratch_dir = new std::string(name.data());
    std::atexit(RemoveScratchDir);
  }
  return *scratch_dir;
}

void WriteFile(const std::string& path, const uint8_t* data, size_t size) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  Require(file != nullptr, "cannot create " + path);
  const bool written = size == 0 || std::fwrite(data, 1, size, file) == size;
  Require(std::fclose(file) == 0 && written, "cannot write " + path);
}

bool Mentions(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace bitsweep::fuzz
