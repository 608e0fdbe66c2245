#include "coordinator/strategies/seed_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace bitsweep::coordinator {

SeedStats Summarise(std::vector<double> values, Aggregate aggregate, bool lower_is_better) {
  SeedStats s;
  const double n = static_cast<double>(values.size());
  const double mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
  if (values.size() > 1) {
    double ss = 0.0;
    for (double v : values) ss += (v - mean) * (v - mean);
    s.std = std::sqrt(ss / (n - 1.0));
  }
  std::sort(values.begin(), values.end());
  switch (aggregate) {
    case Aggregate::kMean: s.value = mean; break;
    case Aggregate::kMedian: {
      const size_t m = values.size() / 2;
      s.value = values.size() % 2 ? values[m] : 0.5 * (values[m - 1] + values[m]);
      break;
    }
    case Aggregate::kWorst: s.value = lower_is_better ? values.back() : values.front(); break;
  }
  return s;
}

}  // namespace bitsweep::coordinator
