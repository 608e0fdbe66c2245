#include "tests/test_util.h"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common/job_spec.h"

namespace bitsweep::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "bitsweep-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::File(const std::string& name) const { return (std::filesystem::path(path_) / name).string(); }

nlohmann::json TinyJobJson(int64_t iterations, int64_t limit) {
  return {
      {"task", "qgan"},
      {"dataset", {{"name", "fashion-mnist"}, {"root", kDefaultFashionMnistRoot}, {"image_size", 32}, {"limit", limit}}},
      {"model", {{"arch", "dcgan32"}, {"nz", 16}, {"ngf", 8}, {"ndf", 8}}},
      {"loss", "bce"},
      {"quant", {{"g", {{"method", "em"}, {"bits", 2}}}, {"d", {{"method", "none"}, {"bits", 32}}}}},
      {"train", {{"iterations", iterations}, {"batch_size", 32}, {"seed", 7}, {"log_every", 1}}},
      {"runtime", {{"device", "cpu"}, {"threads", 1}}},
  };
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int RunCommand(const std::string& command, std::string* output) {
  std::string full = command + " 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  std::string text;
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) text.append(buffer, n);
  int status = pclose(pipe);
  if (output != nullptr) *output = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace bitsweep::testing
