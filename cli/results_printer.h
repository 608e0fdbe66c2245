// Fetching and printing the results table (shared by `results` and `local`).
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "bitsweep/v1/bitsweep.grpc.pb.h"
#include "common/status.h"

namespace bitsweep::cli {

struct ResultsView {
  /// table, csv or json.
  std::string format = "table";
  std::string sort;
  std::vector<std::string> where;
  /// Only the Pareto front of model_bytes against fid.
  bool pareto = false;
};

Status PrintResults(v1::SweepService::Stub* stub, int64_t sweep_id, const ResultsView& view, std::FILE* out);

}  // namespace bitsweep::cli
