// The layer-allocation search in words and tables (`bitsweep results
// --sweep ID --summary` of a layer_allocation sweep): per method, the
// answer to the bound beside the uniform width that answers it, the budget's
// answer, what the proxy and the damage model were worth, and the measured
// front. A pure function of the strategy's outcome (see
// coordinator/strategies/layer_allocation_strategy.h for its fields).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace bitsweep::cli {

std::string FormatAllocationSummary(const nlohmann::json& outcome);

/// One allocation in a line: "2,2,4,8 at 101,232 bytes (2.61 bits): fid
/// 41.20 +- 1.10 (2 seeds)".
std::string DescribeAllocation(const nlohmann::json& config);

}  // namespace bitsweep::cli
