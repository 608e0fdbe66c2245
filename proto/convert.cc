#include "proto/convert.h"

namespace bitsweep {

void MetricToProto(const MetricValue& value, v1::Metric* out) {
  out->set_name(value.metric);
  out->set_value(value.value);
  out->set_has_std(value.std.has_value());
  out->set_std(value.std.value_or(0.0));
  out->set_step(value.step);
  out->set_n_samples(value.n_samples);
  out->set_evaluator(value.evaluator);
  out->set_evaluator_hash(value.evaluator_hash);
}

MetricValue MetricFromProto(const v1::Metric& m) {
  MetricValue v;
  v.metric = m.name();
  v.value = m.value();
  if (m.has_std()) v.std = m.std();
  v.step = m.step();
  v.n_samples = m.n_samples();
  v.evaluator = m.evaluator();
  v.evaluator_hash = m.evaluator_hash();
  return v;
}

}  // namespace bitsweep
