// How the runs of one configuration (one per seed) combine into one value.
#pragma once

#include <vector>

#include "common/strategy_spec.h"

namespace bitsweep::coordinator {

struct SeedStats {
  /// The aggregate (mean, median or worst) of the values.
  double value = 0.0;
  /// Sample standard deviation (0 for one value).
  double std = 0.0;
};

/// `values` must not be empty. "worst" is the max when lower is better.
SeedStats Summarise(std::vector<double> values, Aggregate aggregate, bool lower_is_better);

}  // namespace bitsweep::coordinator
