// Helpers shared by the tests: temporary folders and small job specs on the
// real Fashion-MNIST files.
#pragma once

#include <string>
#include <vector>

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

namespace bitsweep::testing {

/// A child process (the real `bitsweep` binary) with stdout and stderr going
/// to a log file. Killed (SIGKILL) when the object goes away if still running.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  int pid() const { return pid_; }
  void Signal(int signal);
  /// Waits for exit; returns the exit code (128 + signal when killed).
  int Wait();
  /// What it printed so far.
  std::string Log() const;
  /// Waits until the log matches `pattern` (ECMAScript regex) or `seconds`
  /// pass; returns the first capture group ("" on timeout).
  std::string WaitForLog(const std::string& pattern, double seconds) const;

 private:
  int pid_ = -1;
  bool exited_ = false;
  int exit_code_ = -1;
  std::string log_path_;
};

}  // namespace bitsweep::testing
