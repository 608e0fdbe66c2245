// `bitsweep report`: the verdicts of a results store, read from the file
// itself (read-only, so it works beside a running coordinator and on a copy
// of a store).
#include <cmath>
#include <cstdio>

#include <SQLiteCpp/SQLiteCpp.h>

#include "cli/allocation_summary.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/service_commands.h"
#include "common/table.h"
#include "cli/verdict_report.h"

namespace bitsweep::cli {
namespace {

// The rows of one store file.
Result<std::vector<ReportRow>> ReadRows(const ReportCommandOptions& options, const std::string& db_path) {
  const std::string& m = options.metric;
  // The latest run of each configuration and seed (SQLite takes the bare
  // columns from the row of MAX(job)): a configuration run again, e.g. with
  // other PTQ options, is not counted as another seed.
  // Uniform widths only: every layer at bits_g, or the first and last at
  // full precision (keep_first_last_fp). A per-layer allocation is another
  // generator than its network's nominal bits say.
  const std::string others = "replace(',' || replace(widths_g, ',', ',,') || ',', ',' || bits_g || ',', '')";
  std::string sql = "SELECT protocol, method_g, bits_g, seed, \"" + m + "\", " + m +
                    "_se, MAX(job) FROM results WHERE state = 'SUCCEEDED' AND method_d = 'none' AND \"" + m +
                    "\" IS NOT NULL AND (" + others + " = '' OR (" + others +
                    " = ',32,,32,' AND widths_g LIKE '32,%' AND widths_g LIKE '%,32'))";
  if (!options.sweeps.empty()) {
    sql += " AND sweep_id IN (";
    for (size_t i = 0; i < options.sweeps.size(); ++i) sql += (i ? ", " : "") + std::to_string(options.sweeps[i]);
    sql += ")";
  }
  sql += " GROUP BY protocol, method_g, bits_g, seed";
  std::vector<ReportRow> rows;
  try {
    SQLite::Database db(db_path, SQLite::OPEN_READONLY);
    db.setBusyTimeout(5000);
    SQLite::Statement q(db, sql);
    while (q.executeStep()) {
      ReportRow r;
      r.protocol = q.getColumn(0).getString();
      r.method = q.getColumn(1).getString();
      r.bits = q.getColumn(2).getInt();
      r.seed = static_cast<uint64_t>(q.getColumn(3).getInt64());
      r.value = q.getColumn(4).getDouble();
      r.se = q.getColumn(5).isNull() ? 0.0 : q.getColumn(5).getDouble();
      rows.push_back(r);
    }
  } catch (const SQLite::Exception& e) {
    const std::string what = e.what();
    if (what.find("no such column") != std::string::npos) {
      return Status::FailedPrecondition(db_path + ": this store predates the protocol, _se and widths columns; start " +
                                        "a coordinator (or bitsweep local) on it once to upgrade it");
    }
    return Status::InvalidArgument(db_path + ": " + what);
  }
  return rows;
}

// The layer-allocation searches of one store file, each with its outcome.
struct AllocationSearch {
  int64_t id = 0;
  std::string name, state;
  nlohmann::json outcome;
};

Result<std::vector<AllocationSearch>> ReadAllocationSearches(const ReportCommandOptions& options,
                                                             const std::string& db_path) {
  std::string sql = "SELECT id, name, state, strategy_outcome FROM sweeps WHERE strategy = 'layer_allocation'";
  if (!options.sweeps.empty()) {
    sql += " AND id IN (";
    for (size_t i = 0; i < options.sweeps.size(); ++i) sql += (i ? ", " : "") + std::to_string(options.sweeps[i]);
    sql += ")";
  }
  sql += " ORDER BY id";
  std::vector<AllocationSearch> out;
  try {
    SQLite::Database db(db_path, SQLite::OPEN_READONLY);
    db.setBusyTimeout(5000);
    SQLite::Statement q(db, sql);
    while (q.executeStep()) {
      AllocationSearch s;
      s.id = q.getColumn(0).getInt64();
      s.name = q.getColumn(1).getString();
      s.state = q.getColumn(2).getString();
      if (!q.getColumn(3).isNull()) s.outcome = nlohmann::json::parse(q.getColumn(3).getString(), nullptr, false);
      out.push_back(std::move(s));
    }
  } catch (const SQLite::Exception& e) {
    return Status::InvalidArgument(db_path + ": " + e.what());
  }
  return out;
}

const char* DecisionName(coordinator::Decision d) {
  switch (d) {
    case coordinator::Decision::kMeets: return "meets";
    case coordinator::Decision::kFails: return "fails";
    case coordinator::Decision::kUndecided: break;
  }
  return "undecided";
}

}  // namespace

int RunReportCommand(const ReportCommandOptions& options) {
  if (options.metric != "fid" && options.metric != "is" && options.metric != "kid") {
    return ReportError("report", Status::InvalidArgument("--metric: \"" + options.metric + "\" is not fid, is or kid"));
  }
  if (!(options.bound > 1.0)) {
    return ReportError("report", Status::InvalidArgument("--bound must be more than 1 (e.g. 1.2: within 1.2x)"));
  }
  if (!(options.confidence > 0.5 && options.confidence < 1.0)) {
    return ReportError("report", Status::InvalidArgument("--confidence must be between 0.5 and 1"));
  }
  // Several stores (runs of other seeds kept apart) judge together: their
  // rows are one table, paired by seed.
  std::vector<ReportRow> all;
  std::vector<AllocationSearch> allocations;
  for (const auto& path : options.db_paths) {
    auto rows = ReadRows(options, path);
    if (!rows.ok()) return ReportError("report", rows.status());
    all.insert(all.end(), rows->begin(), rows->end());
    auto searches = ReadAllocationSearches(options, path);
    if (!searches.ok()) return ReportError("report", searches.status());
    allocations.insert(allocations.end(), searches->begin(), searches->end());
  }
  ReportOptions report;
  report.metric = options.metric;
  report.bound = options.bound;
  report.confidence = options.confidence;
  const std::vector<ConfigVerdict> verdicts = JudgeConfigurations(all, report);
  if (verdicts.empty() && allocations.empty()) {
    std::printf("nothing to judge: no finished quantized generator with a full-precision one to compare it with\n");
    return kExitOk;
  }

  const std::string& m = options.metric;
  const std::string interval = std::to_string(static_cast<int>(std::lround((2 * options.confidence - 1) * 100))) + "%";
  Table table;
  table.columns = {"protocol", "method", "bits", "seeds", m, m + "_se", "x_fp", interval + " interval", "verdict",
                   "fp_reference"};
  for (const auto& v : verdicts) {
    table.rows.push_back({Cell::Text(v.protocol), Cell::Text(v.method), Cell::Number(v.bits), Cell::Number(v.seeds),
                          Cell::Number(v.value, "%.4g"), Cell::Number(v.se, "%.2g"), Cell::Number(v.ratio, "%.2f"),
                          Cell::Text(std::isfinite(v.low) && std::isfinite(v.high)
                                         ? Cell::Number(v.low, "%.2f").text + "-" + Cell::Number(v.high, "%.2f").text
                                         : "-"),
                          Cell::Text(DecisionName(v.decision)), Cell::Text(v.reference)});
  }
  if (!verdicts.empty()) {
    std::printf("%s\n", FormatAligned(table).c_str());
    std::printf("verdicts (%s within %gx of full precision, each %g%% sure):\n", m.c_str(), options.bound,
                options.confidence * 100);
    for (const auto& line : VerdictLines(verdicts, report)) std::printf("  %s\n", line.c_str());
  }
  // Per-layer widths: each layer-allocation search's answer beside the
  // uniform width that answers the same bound (judged by the search, at its
  // own bound and confidence).
  for (const auto& a : allocations) std::printf("\n%s", AllocationReport(a.id, a.name, a.state, a.outcome).c_str());
  return kExitOk;
}

}  // namespace bitsweep::cli
