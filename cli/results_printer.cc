#include "cli/results_printer.h"

#include "cli/client.h"
#include "proto/grpc_status.h"
#include "proto/read_results.h"

namespace bitsweep::cli {

Status PrintResults(v1::SweepService::Stub* stub, int64_t sweep_id, const ResultsView& view, std::FILE* out) {
  if (view.format != "table" && view.format != "csv" && view.format != "json") {
    return Status::InvalidArgument("--format: \"" + view.format + "\" is not one of table, csv, json");
  }
  v1::QueryResultsResponse response;
  BITSWEEP_RETURN_IF_ERROR(
      FromGrpcStatus(ReadResultRows(stub, sweep_id, [] { return CallContext(120); }, &response), "StreamResults"));
  Table table = ResultsTable(response);
  BITSWEEP_RETURN_IF_ERROR(FilterRows(&table, view.where));
  if (view.pareto) {
    BITSWEEP_ASSIGN_OR_RETURN(table, ParetoFront(table, "model_bytes", "fid"));
  }
  if (!view.sort.empty()) BITSWEEP_RETURN_IF_ERROR(SortRows(&table, view.sort));
  std::string text;
  if (view.format == "csv") {
    text = FormatCsv(table);
  } else if (view.format == "json") {
    text = FormatJson(table).dump(2) + "\n";
  } else {
    text = FormatAligned(table);
  }
  std::fputs(text.c_str(), out);
  return Status::Ok();
}

}  // namespace bitsweep::cli
