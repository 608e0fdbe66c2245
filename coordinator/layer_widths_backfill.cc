#include "coordinator/layer_widths_backfill.h"

#include <map>
#include <string>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>
#include <nlohmann/json.hpp>

#include "common/layer_widths.h"
#include "common/sweep_spec.h"

namespace bitsweep::coordinator {

void BackfillLayerWidths(SQLite::Database& db) {
  std::map<int64_t, nlohmann::json> bases;  // sweep id -> its base job spec
  SQLite::Statement sweeps(db, "SELECT id, spec_json FROM sweeps");
  while (sweeps.executeStep()) {
    auto spec = nlohmann::json::parse(sweeps.getColumn(1).getString(), nullptr, /*allow_exceptions=*/false);
    if (spec.is_object() && spec.contains("base")) bases[sweeps.getColumn(0).getInt64()] = spec["base"];
  }
  // Read first, then write: SQLite leaves a scan of a table undefined while
  // the same connection changes it.
  struct Job {
    int64_t id, sweep_id;
    std::string params;
  };
  std::vector<Job> jobs;
  SQLite::Statement select(db, "SELECT id, sweep_id, params_json FROM jobs WHERE widths_g IS NULL");
  while (select.executeStep()) {
    jobs.push_back({select.getColumn(0).getInt64(), select.getColumn(1).getInt64(), select.getColumn(2).getString()});
  }
  SQLite::Statement update(db, "UPDATE jobs SET widths_g = ?, mean_bits_g = ?, widths_d = ?, mean_bits_d = ? WHERE id = ?");
  for (const Job& job : jobs) {
    auto base = bases.find(job.sweep_id);
    if (base == bases.end()) continue;
    auto params = nlohmann::json::parse(job.params, nullptr, /*allow_exceptions=*/false);
    if (!params.is_object()) continue;
    auto plan = PlanJob(base->second, params);
    if (!plan.ok()) continue;
    const WidthsSummary g = SummarizeWidths(plan->spec, "g");
    const WidthsSummary d = SummarizeWidths(plan->spec, "d");
    update.bind(1, g.text);
    update.bind(2, g.mean_bits);
    update.bind(3, d.text);
    update.bind(4, d.mean_bits);
    update.bind(5, job.id);
    update.exec();
    update.reset();
  }
}

}  // namespace bitsweep::coordinator
