// The layer-allocation search in words and tables (`bitsweep results
// --sweep ID --summary` of a layer_allocation sweep): per method, the
// answer to the bound beside the uniform width that answers it, the budget's
// answer, what the proxy and the damage model were worth, and the measured
// front. A pure function of the strategy's outcome (see
// coordinator/strategies/layer_allocation_strategy.h for its fields).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bitsweep::cli {

std::string FormatAllocationSummary(const nlohmann::json& outcome);

/// One allocation in a line: "2,2,4,8 at 101,232 bytes (2.61 bits): fid
/// 41.20 +- 1.10 (2 seeds)".
std::string DescribeAllocation(const nlohmann::json& config);

/// The answer in plain words, one line per method and what backs it, e.g.
/// "em: uniform 3 bits meets 2x at 136.1 KiB (1.52x full precision,
/// 1.45-1.60); per layer 2,2,4,8 meets it at 98.9 KiB (1.81x, 1.72-1.90):
/// 27% fewer bytes", then the next cheaper allocation's verdict (why the
/// answer is the fewest bytes) and the answers as warm-started QAT. Every
/// ratio is to full precision through the same post-training pipeline, with
/// the two-sided interval at 2 x confidence - 1 (the search's own).
std::vector<std::string> AllocationVerdictLines(const nlohmann::json& outcome);

/// What `bitsweep report` prints of one layer-allocation sweep: a header
/// ('layer allocation, sweep 2 "demo-layers" (fid <= 2 x baseline, each
/// verdict 95% sure, intervals 90%; post-training quantization, seed 1):')
/// and AllocationVerdictLines, indented. `state` is the sweep's (RUNNING,
/// DONE, CANCELLED); `outcome` its strategy_outcome (null: none yet).
std::string AllocationReport(int64_t sweep_id, const std::string& name, const std::string& state,
                             const nlohmann::json& outcome);

/// 101232 -> "98.9 KiB".
std::string KiB(int64_t bytes);

}  // namespace bitsweep::cli
