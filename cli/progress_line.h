// A one-line progress display for terminals: step, percentage, losses,
// throughput and ETA, redrawn in place. Silent when stderr is not a terminal
// (logs get the final summary only).
#pragma once

#include <cstdint>
#include <string>

namespace bitsweep::cli {

class ProgressLine {
 public:
  ProgressLine();
  /// Redraws at most ~10 times a second, and always for the last step.
  void Update(int64_t step, int64_t total, const std::string& detail, double elapsed_seconds);
  /// Ends the line so later output starts on a fresh one.
  void Finish();

 private:
  bool enabled_;
  bool drawn_ = false;
  double last_draw_ = -1.0;
};

/// "1h02m", "3m05s", "42s".
std::string FormatDuration(double seconds);

}  // namespace bitsweep::cli
