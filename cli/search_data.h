// Fetches what a search summary or plot needs from the coordinator: the
// sweep (with its strategy's outcome) and its finished jobs.
#pragma once

#include <cstdio>
#include <vector>

#include "bitsweep/v1/bitsweep.grpc.pb.h"
#include "cli/search_summary.h"
#include "common/status.h"

namespace bitsweep::cli {

struct SearchData {
  SearchInfo info;
  std::vector<RunRow> runs;
};

Result<SearchData> FetchSearch(v1::SweepService::Stub* stub, int64_t sweep_id);

/// `bitsweep results SWEEP --summary`.
Status PrintSearchSummary(v1::SweepService::Stub* stub, int64_t sweep_id, std::FILE* out);

}  // namespace bitsweep::cli
