// `bitsweep query "SELECT ..."`: read-only SQL over the results store
// through the coordinator (which enforces read-only, a time limit and a row
// limit), printed like `bitsweep results`.
#include <cstdio>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/service_commands.h"
#include "proto/grpc_status.h"

namespace bitsweep::cli {
namespace {

Cell ToCell(const v1::QueryValue& value) {
  switch (value.kind_case()) {
    case v1::QueryValue::kInteger: return Cell::Number(static_cast<double>(value.integer()), "%.0f");
    case v1::QueryValue::kReal: return Cell::Number(value.real(), "%.6g");
    case v1::QueryValue::kText: return Cell::Text(value.text());
    case v1::QueryValue::kBlobBytes: return Cell::Text("<" + std::to_string(value.blob_bytes()) + " bytes>");
    default: return Cell::Missing();
  }
}

}  // namespace

int RunQueryCommand(const QueryCommandOptions& options) {
  Connection c = Connect(options.coordinator.empty() ? DefaultCoordinatorAddress() : options.coordinator);
  v1::QueryRequest request;
  request.set_sql(options.sql);
  request.set_max_rows(options.max_rows);
  v1::QueryResponse response;
  Status s = FromGrpcStatus(c.sweeps->Query(CallContext(120).get(), request, &response), "Query");
  if (!s.ok()) return ReportError("query", s);
  Table table;
  table.columns.assign(response.columns().begin(), response.columns().end());
  for (const auto& row : response.rows()) {
    std::vector<Cell> cells;
    for (const auto& value : row.values()) cells.push_back(ToCell(value));
    table.rows.push_back(std::move(cells));
  }
  if (options.format == "csv") {
    std::fputs(FormatCsv(table).c_str(), stdout);
  } else if (options.format == "json") {
    std::printf("%s\n", FormatJson(table).dump(2).c_str());
  } else {
    std::fputs(FormatAligned(table).c_str(), stdout);
  }
  if (response.truncated()) {
    std::fprintf(stderr, "bitsweep query: only the first %d rows (--max-rows, capped by the coordinator)\n",
                 response.rows_size());
  }
  return kExitOk;
}

}  // namespace bitsweep::cli
