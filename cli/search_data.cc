#include "cli/search_data.h"

#include "cli/client.h"
#include "proto/grpc_status.h"
#include "proto/read_results.h"

namespace bitsweep::cli {

Result<SearchData> FetchSearch(v1::SweepService::Stub* stub, int64_t sweep_id) {
  if (sweep_id <= 0) return Status::InvalidArgument("--sweep: give the id of the sweep to summarise");
  v1::GetSweepRequest get;
  get.set_sweep_id(sweep_id);
  v1::Sweep sweep;
  BITSWEEP_RETURN_IF_ERROR(FromGrpcStatus(stub->GetSweep(CallContext().get(), get, &sweep), "GetSweep"));
  v1::QueryResultsResponse results;
  BITSWEEP_RETURN_IF_ERROR(
      FromGrpcStatus(ReadResultRows(stub, sweep_id, [] { return CallContext(120); }, &results), "StreamResults"));

  SearchData data;
  data.info.sweep_id = sweep.id();
  data.info.name = sweep.name();
  data.info.strategy = sweep.strategy();
  data.info.state = SweepStateText(sweep.state());
  data.info.slot_seconds = sweep.slot_seconds();
  data.info.jobs = sweep.jobs_total();
  if (!sweep.strategy_outcome_json().empty()) {
    data.info.outcome = nlohmann::json::parse(sweep.strategy_outcome_json(), nullptr, false);
    if (data.info.outcome.is_discarded()) data.info.outcome = nullptr;
  }
  for (const auto& r : results.rows()) {
    RunRow run;
    run.job = r.job_id();
    run.succeeded = r.state() == "SUCCEEDED";
    run.method_g = r.method_g();
    run.bits_g = r.bits_g();
    run.method_d = r.method_d();
    run.bits_d = r.bits_d();
    run.widths_g = r.widths_g();
    if (r.has_fid()) run.fid = r.fid();
    if (r.has_is()) run.is = r.is();
    if (r.has_kid()) run.kid = r.kid();
    if (r.has_fid_se()) run.fid_se = r.fid_se();
    if (r.has_is_se()) run.is_se = r.is_se();
    if (r.has_kid_se()) run.kid_se = r.kid_se();
    run.model_bytes = r.model_bytes();
    run.params = nlohmann::json::parse(r.params_json(), nullptr, false);
    if (run.params.is_discarded()) run.params = nlohmann::json::object();
    data.runs.push_back(std::move(run));
  }
  std::sort(data.runs.begin(), data.runs.end(), [](const RunRow& a, const RunRow& b) { return a.job < b.job; });
  return data;
}

Status PrintSearchSummary(v1::SweepService::Stub* stub, int64_t sweep_id, std::FILE* out) {
  BITSWEEP_ASSIGN_OR_RETURN(SearchData data, FetchSearch(stub, sweep_id));
  std::fputs(FormatSearchSummary(data.info, GroupBySeed(data.runs)).c_str(), out);
  return Status::Ok();
}

}  // namespace bitsweep::cli
