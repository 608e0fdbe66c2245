// Rows of the `results` view as protobuf: converted one at a time, and
// streamed in chunks while the store is still being read, so that a client
// parses the first rows of a 100,000-row sweep while the coordinator reads
// the rest.
#pragma once

#include <cstdint>
#include <functional>

#include "bitsweep/v1/bitsweep.pb.h"
#include "common/status.h"
#include "coordinator/store.h"

namespace bitsweep::coordinator {

/// Fills `out` from `row`, moving its strings.
void ResultToProto(ResultRecord& row, v1::ResultRow* out);

/// Reads the sweep's result rows (sweep_id 0: every sweep's) on a thread of
/// its own and hands them to `write` in order, at most `chunk_rows` per
/// message, as they are read. After `write` returns false (the client left)
/// nothing more is written. The store's reading connection is given back as
/// soon as the rows are read, whatever the client's pace; the rows not yet
/// written wait in memory. An error after some chunks were written means the
/// rows so far are not the whole answer.
Status StreamResultRows(Store* store, int64_t sweep_id, int chunk_rows,
                        const std::function<bool(const v1::QueryResultsResponse&)>& write);

}  // namespace bitsweep::coordinator
