// What one writer costs: a store commit with the owner-epoch check (a
// coordinator's store, Store::Open) against the same commit without it (a
// store opened without ownership, as only migration tests do), side by side
// in one run, alternating rounds so that the machine's drift hits both.
//
//   store_commit_bench [--commits 20000] [--rounds 3]
//
// Each commit is the smallest write the scheduler makes (a worker's
// last-seen time), in its own transaction: the check's share of a commit
// is largest there.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "coordinator/schema.h"
#include "coordinator/store.h"

namespace {

using bitsweep::coordinator::Store;

// Commits per second over `commits` one-write transactions.
double CommitsPerSecond(Store* store, int commits) {
  bitsweep::coordinator::WorkerRecord w;
  w.id = "w-1";
  w.host = "bench";
  if (!store->InTransaction([&] { return store->UpsertWorker(w, 2); }).ok()) std::abort();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < commits; ++i) {
    if (!store->InTransaction([&] { return store->TouchWorker("w-1", i); }).ok()) std::abort();
  }
  return commits / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  int commits = 20000, rounds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--commits") == 0) commits = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::atoi(argv[i + 1]);
  }
  const auto dir = std::filesystem::temp_directory_path() / ("store-commit-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto owned = Store::Open((dir / "owned.db").string());
  auto unowned = Store::OpenAtVersion((dir / "unowned.db").string(), bitsweep::coordinator::LatestSchemaVersion());
  if (!owned.ok() || !unowned.ok()) {
    std::fprintf(stderr, "cannot open the stores\n");
    return 1;
  }
  std::printf("round  with owner check (commits/s)  without (commits/s)  ratio\n");
  for (int r = 1; r <= rounds; ++r) {
    const double with_check = CommitsPerSecond(owned->get(), commits);
    const double without = CommitsPerSecond(unowned->get(), commits);
    std::printf("%5d  %29.0f  %19.0f  %5.3f\n", r, with_check, without, with_check / without);
  }
  owned->reset();
  unowned->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
