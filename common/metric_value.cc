#include "common/metric_value.h"

namespace bitsweep {

nlohmann::json MetricValue::ToJson() const {
  return {{"metric", metric},
          {"value", value},
          {"std", std ? nlohmann::json(*std) : nlohmann::json(nullptr)},
          {"step", step},
          {"n_samples", n_samples},
          {"evaluator", evaluator},
          {"evaluator_hash", evaluator_hash}};
}

MetricValue MetricValue::FromJson(const nlohmann::json& j) {
  MetricValue v;
  v.metric = j.value("metric", "");
  v.value = j.value("value", 0.0);
  if (j.contains("std") && j["std"].is_number()) v.std = j["std"].get<double>();
  v.step = j.value("step", int64_t{0});
  v.n_samples = j.value("n_samples", int64_t{0});
  v.evaluator = j.value("evaluator", "");
  v.evaluator_hash = j.value("evaluator_hash", "");
  return v;
}

}  // namespace bitsweep
