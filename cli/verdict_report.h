// The answer in plain words: for each way of making a quantized generator
// (protocol) and each method, how few bits keep its quality within a bound
// of full precision, judged with the uncertainty the results carry.
//
// Each quantized configuration (protocol, method, G bits; D at full
// precision) is compared with the full-precision generator of the same
// protocol (the PTQ sweep's unquantized evaluation, the warm-started
// fine-tune of the baseline with no quantization, or the from-scratch
// baseline), or, where the protocol has none, with the from-scratch
// baseline the others start from (as a multi_precision search does): per
// seed, the log of value / (bound x reference) paired by
// seed where the reference has that seed. The margins are judged as the
// multi_precision search judges them (coordinator/strategies/verdict.h):
// with the seed-to-seed spread pooled over the protocol's configurations
// when some have two or more seeds, or with the evaluation's sampling error
// alone when none has, which the report then says.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "coordinator/strategies/verdict.h"

namespace bitsweep::cli {

/// One finished job of the results view, as the report reads it.
struct ReportRow {
  std::string protocol;  // ptq, warm-start, from-scratch
  std::string method;    // of G; "none" is full precision
  int bits = 32;
  uint64_t seed = 0;
  double value = 0.0;  // the metric
  double se = 0.0;     // its sampling standard error (0: unknown)
};

struct ReportOptions {
  std::string metric = "fid";
  /// A configuration meets when its value is within `bound` x full
  /// precision (fid, kid: value <= bound x fp; is: value >= fp / bound).
  double bound = 1.2;
  /// One-sided confidence of each verdict; the interval shown is the
  /// two-sided one at 2 x confidence - 1.
  double confidence = 0.95;
};

struct ConfigVerdict {
  std::string protocol, method;
  /// The protocol whose full-precision generator it is compared with.
  std::string reference;
  int bits = 32;
  int seeds = 0;
  double value = 0.0;  // mean over seeds
  double se = 0.0;     // sampling standard error of that mean
  /// value / reference (for is: reference / value), and its interval.
  double ratio = 0.0, low = 0.0, high = 0.0;
  coordinator::Decision decision = coordinator::Decision::kUndecided;
  /// No configuration of the protocol had two seeds: the interval is the
  /// evaluation's sampling error only.
  bool sampling_only = false;
};

/// Verdicts for every quantized configuration that has a full-precision
/// reference in its protocol, ordered by protocol, method, bits.
std::vector<ConfigVerdict> JudgeConfigurations(const std::vector<ReportRow>& rows, const ReportOptions& options);

/// One line per (protocol, method), e.g. "em (ptq): keeps fid within 1.2x
/// of full precision down to 2 bits; 1 bit fails (3.10x, 2.95-3.26)".
std::vector<std::string> VerdictLines(const std::vector<ConfigVerdict>& verdicts, const ReportOptions& options);

}  // namespace bitsweep::cli
