// The summary of a search (`bitsweep results SWEEP --summary`, and `plot`):
// every configuration tried with mean and std over its seeds, what the
// strategy chose, what it cost, and the Pareto front of packed generator
// size against quality. Pure functions over rows, so tests need no server.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/table.h"

namespace bitsweep::cli {

/// One finished job, as the results table has it.
struct RunRow {
  int64_t job = 0;
  bool succeeded = false;
  std::string method_g, method_d;
  int bits_g = 32, bits_d = 32;
  /// G's per-layer widths, "2,1,2,4" ("" from an older coordinator).
  std::string widths_g;
  std::optional<double> fid, is, kid;
  /// Their sampling standard errors, where measured.
  std::optional<double> fid_se, is_se, kid_se;
  int64_t model_bytes = 0;
  /// The params the job was proposed with (seed included).
  nlohmann::json params;
};

/// Mean and sample std of one metric over the seeds that measured it, and
/// how sure the mean is.
struct MetricStats {
  int n = 0;
  double mean = 0.0, std = 0.0;
  /// Root mean square of the runs' sampling standard errors (0 if none).
  double sampling_se = 0.0;
  /// Standard error of `mean`: over seeds when there are two or more
  /// (sd / sqrt(n), which holds the sampling noise too), never below the
  /// sampling error alone (sampling_se / sqrt(n)).
  double se() const;
};

/// The runs of one configuration (the same params but for train.seed).
struct ConfigSummary {
  std::string method_g, method_d;
  int bits_g = 32, bits_d = 32;
  std::string widths_g;
  /// The params without the seed, e.g. {"quant.g.bits":2,...}.
  nlohmann::json params;
  int jobs = 0, failed = 0;
  MetricStats fid, is, kid;
  int64_t model_bytes = 0;
  /// The strategy's verdict (multi_precision: baseline, meets, fails,
  /// undecided), if any.
  std::string verdict;
  /// How sure it is: value / bound with its interval, e.g.
  /// "0.97 [0.93, 1.01]" ("" when the search did not say).
  std::string vs_bound;
};

/// Groups runs by configuration, in the order each was first run.
std::vector<ConfigSummary> GroupBySeed(const std::vector<RunRow>& runs);

/// The configurations as a table; `outcome` (the strategy's, may be null)
/// supplies the verdicts.
Table ConfigTable(std::vector<ConfigSummary>* configs, const nlohmann::json& outcome);

/// The whole summary as text: header, chosen widths, configurations, cost,
/// Pareto front of packed generator bytes against `metric` (config means).
struct SearchInfo {
  int64_t sweep_id = 0;
  std::string name, strategy, state;
  nlohmann::json outcome;  // null when the strategy recorded none
  double slot_seconds = 0.0;
  int jobs = 0;
};
std::string FormatSearchSummary(const SearchInfo& info, std::vector<ConfigSummary> configs);

/// The quality metric a summary ranks by: the requirement's or the ranking
/// metric of the strategy, else fid.
std::string SummaryMetric(const nlohmann::json& outcome);

}  // namespace bitsweep::cli
