// What the end-to-end tests share: the `bitsweep` binary under test, shell
// helpers, and a fixture that starts coordinators and workers as real
// processes on loopback, in a temporary folder.
#pragma once

#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/test_util.h"

namespace bitsweep {

using testing::ChildProcess;
using testing::TempDir;

inline const std::string kBinary = BITSWEEP_BINARY;

inline std::string Shell(const std::string& command, int* exit_code) {
  std::string output;
  *exit_code = testing::RunCommand(command, &output);
  return output;
}

inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// The cells of one CSV line; a quoted cell may hold commas (per-layer
// widths, "2,2,4,8") and doubled quotes.
inline std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      cells.back() += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      cells.emplace_back();
    } else {
      cells.back() += c;
    }
  }
  if (line.empty()) cells.clear();
  return cells;
}

// A grid of `jobs` synthetic jobs (seeds 1..jobs) of `seconds` each.
inline nlohmann::json SyntheticGrid(const std::string& name, int jobs, double seconds) {
  std::vector<int> seeds;
  for (int i = 1; i <= jobs; ++i) seeds.push_back(i);
  return {{"name", name},
          {"base", {{"task", "synthetic"}, {"synthetic", {{"seconds", seconds}}}}},
          {"strategy", {{"kind", "grid"}, {"axes", {{"train.seed", seeds}}}}}};
}

class ServiceE2ETest : public ::testing::Test {
 protected:
  // Starts a coordinator on `listen` (default: a free port) and returns its
  // address. Each start logs to its own file.
  // `db` "" = store.db in the test's folder.
  std::string StartCoordinator(const std::vector<std::string>& extra = {}, const std::string& listen = "127.0.0.1:0",
                               const std::string& db = "") {
    std::vector<std::string> argv = {kBinary, "coordinator", "--listen", listen,
                                     "--db",  db.empty() ? dir_.File("store.db") : db};
    argv.insert(argv.end(), extra.begin(), extra.end());
    const std::string log = coordinator_starts_++ == 0 ? "coordinator.log"
                                                       : "coordinator-" + std::to_string(coordinator_starts_) + ".log";
    coordinator_ = std::make_unique<ChildProcess>(argv, dir_.File(log));
    const std::string port = coordinator_->WaitForLog("listening on port ([0-9]+)", 30);
    EXPECT_FALSE(port.empty()) << coordinator_->Log();
    return "127.0.0.1:" + port;
  }

  std::unique_ptr<ChildProcess> StartWorker(const std::string& address, int n,
                                            const std::vector<std::string>& extra = {}) {
    const std::string name = "worker" + std::to_string(n);
    std::vector<std::string> argv = {kBinary,      "worker",         "--coordinator",         address,
                                     "--threads",  "1",              "--work-dir",            dir_.File(name),
                                     "--cache-dir", dir_.File("cache")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto worker = std::make_unique<ChildProcess>(argv, dir_.File(name + "-" + std::to_string(++worker_starts_) + ".log"));
    EXPECT_FALSE(worker->WaitForLog("(registered)", 30).empty()) << worker->Log();
    return worker;
  }

  // True while `pid` runs (a zombie, exited but not waited for, is not).
  static bool Running(int pid) {
    const std::string stat = testing::ReadFile("/proc/" + std::to_string(pid) + "/stat");
    const size_t paren = stat.rfind(')');
    return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
  }

  std::string WriteSweep(const nlohmann::json& sweep) {
    const std::string path = dir_.File("sweep.json");
    testing::WriteFile(path, sweep.dump(2));
    return path;
  }

  // Submits `sweep` to the coordinator at `address` with the CLI; false
  // (and the CLI's output in the failure) when the submit fails.
  bool Submit(const nlohmann::json& sweep, const std::string& address) {
    int rc = 0;
    const std::string out = Shell(kBinary + " submit --spec " + WriteSweep(sweep) + " --coordinator " + address, &rc);
    EXPECT_EQ(rc, 0) << out;
    return rc == 0;
  }

  // One value from the store, read the way users read it (works while the
  // coordinator is down).
  std::string Query(const std::string& sql) {
    int rc = 0;
    std::string out = Shell("sqlite3 -readonly " + dir_.File("store.db") + " \"" + sql + "\"", &rc);
    EXPECT_EQ(rc, 0) << out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  // The folder ("store-<first 12 hex digits of its id>") a store's files
  // live in, inside an artifacts or work folder.
  static std::string StoreFolderOf(const std::string& db) {
    int rc = 0;
    std::string id = Shell("sqlite3 -readonly " + db + " \"SELECT value FROM store_info WHERE key = 'store_id'\"", &rc);
    EXPECT_EQ(rc, 0) << id;
    return "store-" + id.substr(0, 12);
  }

  // Waits until the sweep is no longer RUNNING; false on timeout.
  bool WaitDone(int sweep, double seconds) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
      if (Query("SELECT state FROM sweeps WHERE id = " + std::to_string(sweep)) == "DONE") return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }

  TempDir dir_;
  std::unique_ptr<ChildProcess> coordinator_;
  int coordinator_starts_ = 0;
  int worker_starts_ = 0;
};

}  // namespace bitsweep
