#include "dashboard/json_views.h"

#include <algorithm>

#include "proto/state_names.h"

namespace bitsweep::dashboard {

nlohmann::json ParsedOrText(const std::string& text) {
  if (text.empty()) return nullptr;
  auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? nlohmann::json(text) : parsed;
}

nlohmann::json SweepJson(const v1::Sweep& s, int64_t now_unix_ms, bool with_spec) {
  const int finished = s.jobs_succeeded() + s.jobs_failed() + s.jobs_cancelled();
  nlohmann::json j = {
      {"id", s.id()},
      {"name", s.name()},
      {"state", SweepStateName(s.state())},
      {"strategy", s.strategy()},
      {"priority", s.priority()},
      {"created_ms", s.created_unix_ms()},
      {"finished_ms", s.finished_unix_ms()},
      {"jobs",
       {{"total", s.jobs_total()},
        {"queued", s.jobs_queued()},
        {"running", s.jobs_running()},
        {"succeeded", s.jobs_succeeded()},
        {"failed", s.jobs_failed()},
        {"cancelled", s.jobs_cancelled()}}},
      {"slot_hours", s.slot_seconds() / 3600.0},
  };
  // The ETA assumes the jobs left go at the pace of those finished so far:
  // a rough figure (searches add jobs as they learn), shown as "about".
  nlohmann::json eta = nullptr;
  if (s.state() == v1::SWEEP_RUNNING && finished > 0 && s.created_unix_ms() > 0) {
    const double elapsed_s = std::max<int64_t>(0, now_unix_ms - s.created_unix_ms()) / 1000.0;
    eta = elapsed_s * (s.jobs_total() - finished) / finished;
  }
  j["eta_seconds"] = eta;
  if (with_spec) {
    j["spec"] = ParsedOrText(s.spec_json());
    j["outcome"] = ParsedOrText(s.strategy_outcome_json());
  }
  return j;
}

nlohmann::json JobJson(const v1::Job& job) {
  return {
      {"id", job.id()},
      {"sweep_id", job.sweep_id()},
      {"state", JobStateName(job.state())},
      {"params", ParsedOrText(job.params_json())},
      {"attempts", job.attempts()},
      {"max_attempts", job.max_attempts()},
      {"worker", job.worker_id()},
      {"error", job.last_error()},
      {"step", job.step()},
      {"total", job.total()},
      {"wall_seconds", job.wall_seconds()},
      {"started_ms", job.started_unix_ms()},
      {"finished_ms", job.finished_unix_ms()},
  };
}

nlohmann::json WorkerJson(const v1::Worker& w) {
  return {
      {"id", w.id()},
      {"host", w.host()},
      {"devices", std::vector<std::string>(w.devices().begin(), w.devices().end())},
      {"slots", w.slots()},
      {"version", w.version()},
      {"registered_ms", w.registered_unix_ms()},
      {"last_seen_ms", w.last_seen_unix_ms()},
      {"alive", w.alive()},
      {"running", w.running_jobs()},
  };
}

nlohmann::json TablePageJson(const Table& table, int64_t offset, int64_t limit) {
  nlohmann::json rows = nlohmann::json::array();
  const int64_t total = static_cast<int64_t>(table.rows.size());
  for (int64_t i = std::max<int64_t>(0, offset); i < total && i < offset + limit; ++i) {
    nlohmann::json row = nlohmann::json::array();
    for (const Cell& cell : table.rows[static_cast<size_t>(i)]) {
      row.push_back({{"t", cell.text}, {"n", cell.number ? nlohmann::json(*cell.number) : nlohmann::json(nullptr)}});
    }
    rows.push_back(std::move(row));
  }
  return {{"columns", table.columns}, {"rows", std::move(rows)}, {"matching", total}};
}

nlohmann::json QueryRowsJson(const v1::QueryResponse& response) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : response.rows()) {
    nlohmann::json object = nlohmann::json::object();
    for (int c = 0; c < row.values_size() && c < response.columns_size(); ++c) {
      const auto& v = row.values(c);
      nlohmann::json value = nullptr;
      switch (v.kind_case()) {
        case v1::QueryValue::kInteger: value = v.integer(); break;
        case v1::QueryValue::kReal: value = v.real(); break;
        case v1::QueryValue::kText: value = v.text(); break;
        case v1::QueryValue::kBlobBytes: value = {{"blob_bytes", v.blob_bytes()}}; break;
        default: break;
      }
      object[response.columns(c)] = std::move(value);
    }
    rows.push_back(std::move(object));
  }
  return rows;
}

}  // namespace bitsweep::dashboard
