#include "coordinator/strategy.h"

#include "coordinator/strategies/grid_strategy.h"
#include "coordinator/strategies/layer_allocation_strategy.h"
#include "coordinator/strategies/multi_precision_strategy.h"
#include "coordinator/strategies/random_strategy.h"
#include "coordinator/strategies/successive_halving_strategy.h"

namespace bitsweep::coordinator {

std::optional<double> TrialResult::Metric(const std::string& metric) const {
  const MetricValue* latest = nullptr;
  for (const auto& m : metrics) {
    if (m.metric == metric && (latest == nullptr || m.step >= latest->step)) latest = &m;
  }
  if (latest == nullptr) return std::nullopt;
  return latest->value;
}

Result<std::unique_ptr<Strategy>> CreateStrategy(const SweepSpec& sweep, const nlohmann::json& saved_state,
                                                 MeasurementCache* cache) {
  try {
    if (sweep.strategy == "grid") return GridStrategy::Create(sweep, saved_state);
    if (sweep.strategy == "multi_precision") return MultiPrecisionStrategy::Create(sweep, saved_state);
    if (sweep.strategy == "random") return RandomStrategy::Create(sweep, saved_state);
    if (sweep.strategy == "successive_halving") return SuccessiveHalvingStrategy::Create(sweep, saved_state);
    if (sweep.strategy == "layer_allocation") return LayerAllocationStrategy::Create(sweep, saved_state, cache);
  } catch (const nlohmann::json::exception& e) {
    // Only a saved state can be malformed (a fresh strategy reads a
    // validated spec): a damaged or hand-edited store.
    return Status::Corruption(std::string("strategy state: ") + e.what());
  }
  return Status::InvalidArgument("strategy.kind: \"" + sweep.strategy + "\" is not a strategy");
}

}  // namespace bitsweep::coordinator
