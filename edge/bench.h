// `bitsweep-edge bench`: what running a generator costs on this machine.
#pragma once

#include <string>
#include <vector>

#include "edge/generator.h"

namespace bitsweep::edge {

struct BenchOptions {
  std::string model_path;
  Options runtime;
  std::vector<int> threads = {1, 2};
  std::vector<int> batches = {1, 64};
  /// Timed seconds per (threads, batch) case, after one warm-up call; at
  /// least `min_calls` calls each.
  double seconds = 1.0;
  int min_calls = 20;
  /// One JSON object instead of the table.
  bool json = false;
};

/// Loads the model once per thread count, times Generate, and prints weight
/// bytes held, latency per image (p50, p99 over calls: call time / batch)
/// and, at the end, the peak resident memory of the whole process.
int RunBench(const BenchOptions& options);

/// Peak resident set of this process so far, in bytes (0 if unknown).
int64_t PeakResidentBytes();

}  // namespace bitsweep::edge
