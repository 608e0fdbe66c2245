// Helpers shared by the tests: temporary folders and small job specs on the
// real Fashion-MNIST files.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace bitsweep::testing {

/// A fresh folder under the system temp dir, removed with everything in it
/// when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  /// path()/name
  std::string File(const std::string& name) const;

 private:
  std::string path_;
};

/// A job spec on real Fashion-MNIST (first `limit` training images) with a
/// tiny DCGAN, cheap enough to train for tens of steps in a test.
nlohmann::json TinyJobJson(int64_t iterations = 30, int64_t limit = 2048);

/// Writes `text` to `path` (binary).
void WriteFile(const std::string& path, const std::string& text);
/// Reads a whole file (binary).
std::string ReadFile(const std::string& path);

/// Runs a shell command, returning its exit code and (via `output`) what it
/// printed on stdout and stderr.
int RunCommand(const std::string& command, std::string* output);

}  // namespace bitsweep::testing
