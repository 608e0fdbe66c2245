// The results view as a table: the one column set that `bitsweep results`
// prints and the dashboard serves, so both filter, sort and export alike.
#pragma once

#include "bitsweep/v1/bitsweep.pb.h"
#include "common/table.h"

namespace bitsweep {

Table ResultsTable(const v1::QueryResultsResponse& results);

/// Only rows [begin, end) of that table, as they come (ordered by job):
/// a page of a large result set without formatting every other row.
Table ResultsTable(const v1::QueryResultsResponse& results, size_t begin, size_t end);

}  // namespace bitsweep
