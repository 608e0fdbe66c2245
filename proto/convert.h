// Conversions between wire messages and the plain structs both sides use.
#pragma once

#include "bitsweep/v1/bitsweep.pb.h"
#include "common/metric_value.h"

namespace bitsweep {

void MetricToProto(const MetricValue& value, v1::Metric* out);
MetricValue MetricFromProto(const v1::Metric& m);

}  // namespace bitsweep
