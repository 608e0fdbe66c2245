// A client's read of result rows: StreamResults, whose chunks arrive while
// the coordinator still reads the store, or QueryResults when the
// coordinator predates it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include <grpcpp/grpcpp.h>

#include "bitsweep/v1/bitsweep.grpc.pb.h"

namespace bitsweep {

/// Fills `rows` with the sweep's result rows (sweep_id 0: every sweep's).
/// When `rows` lives on an arena, chunks are parsed onto it and their rows
/// moved over, not copied. `make_context` gives each call its context
/// (deadline, credentials).
grpc::Status ReadResultRows(v1::SweepService::StubInterface* stub, int64_t sweep_id,
                            const std::function<std::unique_ptr<grpc::ClientContext>()>& make_context,
                            v1::QueryResultsResponse* rows);

}  // namespace bitsweep
