// Following a sweep live: the WatchSweep stream drawn as progress bars with
// an ETA on a terminal, or as one line per job state change in a log.
#pragma once

#include <atomic>
#include <cstdint>

#include "bitsweep/v1/bitsweep.grpc.pb.h"
#include "common/status.h"

namespace bitsweep::cli {

/// Follows sweep `sweep_id` until it finishes (or `stop` is set, or the
/// stream breaks); returns the sweep as it last was.
Result<v1::Sweep> FollowSweep(v1::SweepService::Stub* stub, int64_t sweep_id, const std::atomic<bool>* stop,
                              bool quiet = false);

/// "g.method=em g.bits=2 seed=1" from a job's params JSON.
std::string DescribeParams(const std::string& params_json);

}  // namespace bitsweep::cli
