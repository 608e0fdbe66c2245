#include "dashboard/routes.h"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>

#include <google/protobuf/arena.h>
#include <httplib.h>

#include "common/table.h"
#include "dashboard/assets.h"
#include "dashboard/json_views.h"
#include "dashboard/quality_chart.h"
#include "proto/read_results.h"
#include "proto/results_table.h"

namespace bitsweep::dashboard {
namespace {

constexpr double kCallSeconds = 30.0;
// An event stream checks for the dashboard stopping this often, and sends
// a comment every kKeepAliveTicks of them so proxies keep it open.
constexpr double kEventTickSeconds = 1.0;
constexpr int kKeepAliveTicks = 15;

google::protobuf::ArenaOptions ArenaBlocks() {
  google::protobuf::ArenaOptions options;
  options.start_block_size = 64 << 10;
  options.max_block_size = 4 << 20;
  return options;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void SendJson(httplib::Response& res, const nlohmann::json& body, int status = 200) {
  res.status = status;
  // Invalid UTF-8 in a spec or an error must not end the response.
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

int HttpStatusOf(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::NOT_FOUND: return 404;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE: return 400;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED: return 503;
    default: return 502;  // the coordinator refused or failed: a bad gateway
  }
}

void SendError(httplib::Response& res, const grpc::Status& status) {
  SendJson(res, {{"error", status.error_message()}}, HttpStatusOf(status.error_code()));
}

void SendBadRequest(httplib::Response& res, const std::string& message) {
  SendJson(res, {{"error", message}}, 400);
}

// A whole-number query parameter, or `fallback` when absent.
bool IntParam(const httplib::Request& req, const char* name, int64_t fallback, int64_t* value,
              httplib::Response& res) {
  if (!req.has_param(name)) {
    *value = fallback;
    return true;
  }
  const std::string text = req.get_param_value(name);
  char* end = nullptr;
  errno = 0;
  const long long parsed = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0) {
    SendBadRequest(res, std::string(name) + ": \"" + text + "\" is not a whole number");
    return false;
  }
  *value = parsed;
  return true;
}

int64_t PathId(const httplib::Request& req) { return std::strtoll(req.matches[1].str().c_str(), nullptr, 10); }

std::string ContentTypeOf(const std::string& name) {
  auto ends_with = [&](const char* suffix) {
    const std::string s(suffix);
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  if (ends_with(".png")) return "image/png";
  // Logs and JSON are shown as text: a browser never runs them.
  if (ends_with(".txt") || ends_with(".log")) return "text/plain; charset=utf-8";
  if (ends_with(".json")) return "application/json";
  return "application/octet-stream";
}

grpc::Status RunQuery(v1::SweepService::Stub* stub, std::unique_ptr<grpc::ClientContext> ctx, const std::string& sql,
                      nlohmann::json* rows) {
  v1::QueryRequest request;
  request.set_sql(sql);
  request.set_max_rows(10000);
  v1::QueryResponse response;
  grpc::Status s = stub->Query(ctx.get(), request, &response);
  if (s.ok()) *rows = QueryRowsJson(response);
  return s;
}

// Rows of {"q": {"g": [layer stats], "d": [...]}} -> one cell per (layer,
// configuration) with the means over the jobs that have it.
nlohmann::json UtilisationCells(const nlohmann::json& rows) {
  struct Sum {
    double utilisation = 0, mse = 0;
    int jobs = 0;
  };
  std::map<std::pair<std::string, std::string>, Sum> sums;
  for (const auto& row : rows) {
    const auto q = row.contains("q") && row["q"].is_string() ? ParsedOrText(row["q"]) : nlohmann::json();
    if (!q.is_object()) continue;
    for (const char* net : {"g", "d"}) {
      if (!q.contains(net) || !q[net].is_array()) continue;
      for (const auto& layer : q[net]) {
        if (!layer.is_object() || !layer.contains("utilisation") || !layer["utilisation"].is_number()) continue;
        const std::string side = std::string(net) == "g" ? "G" : "D";
        const std::string name = side + "." + layer.value("layer", std::string("?"));
        const std::string config = side + " " + layer.value("method", std::string("?")) + "-" +
                                   std::to_string(layer.value("bits", 0));
        Sum& sum = sums[{name, config}];
        sum.utilisation += layer["utilisation"].get<double>();
        sum.mse += layer.value("mse", 0.0);
        ++sum.jobs;
      }
    }
  }
  nlohmann::json cells = nlohmann::json::array();
  for (const auto& [key, sum] : sums) {
    cells.push_back({{"layer", key.first},
                     {"config", key.second},
                     {"utilisation", sum.utilisation / sum.jobs},
                     {"mse", sum.mse / sum.jobs},
                     {"jobs", sum.jobs}});
  }
  return cells;
}

}  // namespace

Routes::Routes(v1::SweepService::Stub* stub, Authorizer authorize, FeedRegistry* feeds)
    : stub_(stub), authorize_(std::move(authorize)), feeds_(feeds) {}

std::unique_ptr<grpc::ClientContext> Routes::Call(double seconds) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)));
  authorize_(ctx.get());
  return ctx;
}

grpc::Status Routes::Results(int64_t sweep_id, std::shared_ptr<const v1::QueryResultsResponse>* rows) {
  const auto arrived = std::chrono::steady_clock::now();
  v1::GetSweepRequest get;
  get.set_sweep_id(sweep_id);
  v1::Sweep sweep;
  grpc::Status s = stub_->GetSweep(Call(kCallSeconds).get(), get, &sweep);
  if (!s.ok()) return s;
  const std::string key = std::to_string(sweep.state()) + "/" +
                          std::to_string(sweep.jobs_succeeded() + sweep.jobs_failed() + sweep.jobs_cancelled());
  auto cached = [&] {
    std::lock_guard<std::mutex> lock(results_mu_);
    auto it = results_.find(sweep_id);
    if (it == results_.end() || !it->second.rows ||
        (it->second.key != key && it->second.fetched_from < arrived)) {
      return false;
    }
    *rows = it->second.rows;
    return true;
  };
  if (cached()) return grpc::Status::OK;
  // One fetch at a time: the page asks for the table and the chart at once,
  // and both need the same rows; requests that queued behind a fetch take
  // its rows instead of fetching again each.
  std::lock_guard<std::mutex> fetching(fetch_mu_);
  if (cached()) return grpc::Status::OK;
  const auto fetched_from = std::chrono::steady_clock::now();
  // Parsed into an arena: 100,000 rows of eight strings each are a few
  // large blocks to allocate and free instead of 800,000 small ones.
  struct ArenaRows {
    google::protobuf::Arena arena{ArenaBlocks()};
    v1::QueryResultsResponse* rows = google::protobuf::Arena::CreateMessage<v1::QueryResultsResponse>(&arena);
  };
  auto holder = std::make_shared<ArenaRows>();
  s = ReadResultRows(stub_, sweep_id, [this] { return Call(120); }, holder->rows);
  if (!s.ok()) return s;
  std::shared_ptr<const v1::QueryResultsResponse> fetched(holder, holder->rows);
  std::lock_guard<std::mutex> lock(results_mu_);
  results_[sweep_id] = {key, fetched_from, fetched, {}};
  *rows = fetched;
  return grpc::Status::OK;
}

grpc::Status Routes::ResultsTableFor(int64_t sweep_id, const std::vector<std::string>& where, bool pareto,
                                     const std::string& sort, std::shared_ptr<const Table>* table, Status* invalid) {
  std::shared_ptr<const v1::QueryResultsResponse> rows;
  grpc::Status s = Results(sweep_id, &rows);
  if (!s.ok()) return s;
  std::string view_key = (pareto ? "pareto|" : "|") + sort;
  for (const auto& condition : where) view_key += "|" + condition;
  {
    std::lock_guard<std::mutex> lock(results_mu_);
    auto& cached = results_[sweep_id];
    auto it = cached.rows == rows ? cached.tables.find(view_key) : cached.tables.end();
    if (it != cached.tables.end()) {
      *table = it->second;
      return grpc::Status::OK;
    }
  }
  // A large table and its copies leave freed memory behind.
  constexpr int kLargeTableRows = 10000;
  if (rows->rows_size() > kLargeTableRows) trim_wanted_ = true;
  auto made = std::make_shared<Table>(ResultsTable(*rows));
  *invalid = FilterRows(made.get(), where);
  if (invalid->ok() && pareto) {
    auto front = ParetoFront(*made, "model_bytes", "fid");
    if (front.ok()) {
      *made = std::move(front.value());
    } else {
      *invalid = front.status();
    }
  }
  if (invalid->ok() && !sort.empty()) *invalid = SortRows(made.get(), sort);
  if (!invalid->ok()) return grpc::Status::OK;
  std::lock_guard<std::mutex> lock(results_mu_);
  auto& cached = results_[sweep_id];
  if (cached.rows == rows) {
    constexpr size_t kMostTablesKept = 4;
    if (cached.tables.size() >= kMostTablesKept) cached.tables.clear();
    cached.tables[view_key] = made;
  }
  *table = made;
  return grpc::Status::OK;
}

void Routes::SendJobPageFromCoordinator(int64_t sweep_id, const JobPageRequest& request, httplib::Response& res) {
  v1::GetSweepRequest get;
  get.set_sweep_id(sweep_id);
  v1::Sweep sweep;
  grpc::Status s = stub_->GetSweep(Call(kCallSeconds).get(), get, &sweep);
  v1::ListJobsRequest list;
  list.set_sweep_id(sweep_id);
  list.set_offset(request.offset);
  list.set_limit(static_cast<int32_t>(request.limit));
  v1::ListJobsResponse page;
  if (s.ok()) s = stub_->ListJobs(Call(kCallSeconds).get(), list, &page);
  if (!s.ok()) return SendError(res, s);
  // A running sweep's page will follow it live: start reading the copy
  // its event stream needs now, not when the stream opens.
  if (sweep.state() == v1::SWEEP_RUNNING) feeds_->Follow(sweep_id);
  nlohmann::json jobs = nlohmann::json::array();
  for (const auto& job : page.jobs()) jobs.push_back(JobJson(job));
  SendJson(res, {{"matching", page.total()}, {"version", 0}, {"sweep", SweepJson(sweep, NowMs(), false)}, {"jobs", jobs}});
}

void Routes::AddTo(httplib::Server* http) {
  // The page and its assets.
  auto serve_asset = [](const std::string& name, httplib::Response& res) {
    const Asset* asset = FindAsset(name);
    if (asset == nullptr) {
      res.status = 404;
      res.set_content("not found", "text/plain");
      return;
    }
    std::string type = asset->content_type;
    if (type.rfind("text/", 0) == 0) type += "; charset=utf-8";
    res.set_content(reinterpret_cast<const char*>(asset->data), asset->size, type.c_str());
  };
  http->Get("/", [serve_asset](const httplib::Request&, httplib::Response& res) { serve_asset("index.html", res); });
  http->Get("/favicon.ico", [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  http->Get(R"(/assets/([a-z.]+))", [serve_asset](const httplib::Request& req, httplib::Response& res) {
    serve_asset(req.matches[1].str(), res);
    res.set_header("Cache-Control", "max-age=300");
  });

  http->Get("/api/sweeps", [this](const httplib::Request&, httplib::Response& res) {
    v1::ListSweepsResponse response;
    grpc::Status s = stub_->ListSweeps(Call(kCallSeconds).get(), {}, &response);
    if (!s.ok()) return SendError(res, s);
    nlohmann::json sweeps = nlohmann::json::array();
    const int64_t now = NowMs();
    for (const auto& sweep : response.sweeps()) sweeps.push_back(SweepJson(sweep, now, false));
    SendJson(res, {{"sweeps", sweeps}});
  });

  http->Get(R"(/api/sweeps/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
    v1::GetSweepRequest request;
    request.set_sweep_id(PathId(req));
    v1::Sweep sweep;
    grpc::Status s = stub_->GetSweep(Call(kCallSeconds).get(), request, &sweep);
    if (!s.ok()) return SendError(res, s);
    SendJson(res, SweepJson(sweep, NowMs(), true));
  });

  // A page of the job table, sorted and filtered here from the live copy.
  http->Get(R"(/api/sweeps/(\d+)/jobs)", [this](const httplib::Request& req, httplib::Response& res) {
    JobPageRequest request;
    if (!IntParam(req, "offset", 0, &request.offset, res) || !IntParam(req, "limit", 50, &request.limit, res)) return;
    if (req.has_param("sort")) request.sort = req.get_param_value("sort");
    if (req.has_param("state")) request.state = req.get_param_value("state");
    const int64_t sweep_id = PathId(req);
    std::shared_ptr<SweepFeed> feed = feeds_->FindReady(sweep_id);
    if (!feed && InSweepOrder(request)) {
      // Nobody follows this sweep yet: the coordinator pages it instead of
      // the page waiting for a snapshot of every job (over a second for
      // 100,000).
      // Version 0: a live page's event stream then says "reload" and the
      // next page comes from the feed.
      if (grpc::Status invalid = CheckJobPageRequest(request); !invalid.ok()) return SendError(res, invalid);
      return SendJobPageFromCoordinator(sweep_id, request, res);
    }
    grpc::Status s = feed ? grpc::Status::OK : feeds_->Get(sweep_id, &feed);
    JobPage page;
    if (s.ok()) s = feed->Page(request, &page);
    if (!s.ok()) return SendError(res, s);
    nlohmann::json jobs = nlohmann::json::array();
    for (const auto& job : page.jobs) jobs.push_back(JobJson(job));
    SendJson(res, {{"matching", page.matching},
                   {"version", page.version},
                   {"sweep", SweepJson(feed->Sweep(), NowMs(), false)},
                   {"jobs", jobs}});
  });

  // Server-sent events: the sweep's counts and the jobs that changed after
  // version `since`, as they change; "reload" when the browser is too far
  // behind; "end" when the sweep finished.
  http->Get(R"(/api/sweeps/(\d+)/events)", [this](const httplib::Request& req, httplib::Response& res) {
    int64_t since = 0;
    if (!IntParam(req, "since", 0, &since, res)) return;
    std::shared_ptr<SweepFeed> feed;
    grpc::Status s = feeds_->Get(PathId(req), &feed);
    if (!s.ok()) return SendError(res, s);
    res.set_header("Cache-Control", "no-cache");
    auto version = std::make_shared<uint64_t>(static_cast<uint64_t>(since));
    auto quiet_ticks = std::make_shared<int>(0);
    res.set_chunked_content_provider("text/event-stream", [this, feed, version, quiet_ticks](
                                                              size_t, httplib::DataSink& sink) {
      if (stopping_ || !sink.is_writable()) return false;
      FeedChanges changes = feed->WaitForChanges(*version, kEventTickSeconds);
      std::string message;
      if (changes.reload) {
        message = "event: reload\ndata: {\"version\":" + std::to_string(changes.version) + "}\n\n";
      } else if (changes.version != *version) {
        nlohmann::json jobs = nlohmann::json::array();
        for (const auto& job : changes.jobs) jobs.push_back(JobJson(job));
        const nlohmann::json data = {
            {"version", changes.version}, {"sweep", SweepJson(changes.sweep, NowMs(), false)}, {"jobs", jobs}};
        message = "event: change\ndata: " + data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                  "\n\n";
      } else if (changes.ended) {
        // Everything was sent: say so and close the stream.
        const std::string end = "event: end\ndata: {}\n\n";
        sink.write(end.data(), end.size());
        sink.done();
        return true;
      } else if (++*quiet_ticks >= kKeepAliveTicks) {
        message = ": still here\n\n";
      }
      if (!message.empty()) {
        *quiet_ticks = 0;
        if (!sink.write(message.data(), message.size())) return false;
      }
      *version = changes.version;
      return true;
    });
  });

  // Result rows: filtered (where=, the grammar of `bitsweep results
  // --where`), the Pareto front (pareto=1), sorted (sort=), then a page as
  // JSON or every row as CSV (format=csv, what `results --format csv` prints).
  http->Get(R"(/api/sweeps/(\d+)/results)", [this](const httplib::Request& req, httplib::Response& res) {
    const int64_t sweep_id = PathId(req);
    int64_t offset = 0, limit = 100;
    if (!IntParam(req, "offset", 0, &offset, res) || !IntParam(req, "limit", 100, &limit, res)) return;
    if (offset < 0 || limit < 1 || limit > 5000) return SendBadRequest(res, "offset must be >= 0 and limit within 1..5000");
    std::vector<std::string> where;
    for (size_t i = 0; i < req.get_param_value_count("where"); ++i) {
      const std::string condition = req.get_param_value("where", i);
      if (!condition.empty()) where.push_back(condition);
    }
    const bool pareto = req.get_param_value("pareto") == "1";
    const std::string sort = req.get_param_value("sort");
    const bool csv = req.get_param_value("format") == "csv";
    if (where.empty() && !pareto && sort.empty() && !csv) {
      // The rows as they come: format only the page (a sweep's first
      // view, whatever its size).
      std::shared_ptr<const v1::QueryResultsResponse> rows;
      grpc::Status s = Results(sweep_id, &rows);
      if (!s.ok()) return SendError(res, s);
      const auto begin = static_cast<size_t>(offset);
      nlohmann::json page = TablePageJson(ResultsTable(*rows, begin, begin + static_cast<size_t>(limit)), 0, limit);
      page["matching"] = rows->rows_size();
      return SendJson(res, page);
    }
    std::shared_ptr<const Table> view;
    Status invalid;
    grpc::Status s = ResultsTableFor(sweep_id, where, pareto, sort, &view, &invalid);
    if (!s.ok()) return SendError(res, s);
    if (!invalid.ok()) return SendBadRequest(res, invalid.message());
    const Table& table = *view;
    if (csv) {
      res.set_header("Content-Disposition",
                     "attachment; filename=\"sweep-" + std::to_string(sweep_id) + "-results.csv\"");
      res.set_content(FormatCsv(table), "text/csv; charset=utf-8");
      return;
    }
    SendJson(res, TablePageJson(table, offset, limit));
  });

  http->Get(R"(/api/sweeps/(\d+)/chart)", [this](const httplib::Request& req, httplib::Response& res) {
    std::shared_ptr<const v1::QueryResultsResponse> rows;
    grpc::Status s = Results(PathId(req), &rows);
    if (!s.ok()) return SendError(res, s);
    const std::string metric = req.has_param("metric") ? req.get_param_value("metric") : "fid";
    const std::string side = req.has_param("side") ? req.get_param_value("side") : "g";
    auto chart = QualityChart(*rows, metric, side);
    if (!chart.ok()) return SendBadRequest(res, chart.status().message());
    SendJson(res, chart.value());
  });

  // Per-layer level utilisation and quantization MSE of the sweep's
  // finished jobs, averaged per layer and configuration (method-bits): the
  // heat map where under-represented levels show.
  http->Get(R"(/api/sweeps/(\d+)/utilisation)", [this](const httplib::Request& req, httplib::Response& res) {
    nlohmann::json rows;
    grpc::Status s = RunQuery(stub_, Call(kCallSeconds),
                              "SELECT json_extract(result_json, '$.quantization') AS q FROM jobs WHERE sweep_id = " +
                                  std::to_string(PathId(req)) + " AND state = 'SUCCEEDED' AND json_valid(result_json)",
                              &rows);
    if (!s.ok()) return SendError(res, s);
    SendJson(res, {{"cells", UtilisationCells(rows)}});
  });

  // One job: its row, attempts, metrics over steps, artifacts and what its
  // worker reported (per-layer level use, losses, the spec it ran).
  http->Get(R"(/api/jobs/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
    const std::string id = std::to_string(PathId(req));
    nlohmann::json job, attempts, metrics;
    grpc::Status s = RunQuery(stub_, Call(kCallSeconds),
                              "SELECT id, sweep_id, ordinal, task, state, params_json, attempts, max_attempts, "
                              "worker_id, last_error, started_ms, finished_ms, wall_seconds, model_bytes, "
                              "method_g, bits_g, widths_g, mean_bits_g, method_d, bits_d, widths_d, mean_bits_d, seed, "
                              "result_json FROM jobs WHERE id = " + id,
                              &job);
    if (s.ok() && job.empty()) s = grpc::Status(grpc::StatusCode::NOT_FOUND, "job " + id + " not found");
    if (s.ok()) {
      s = RunQuery(stub_, Call(kCallSeconds),
                   "SELECT attempt, epoch, worker_id, started_ms, ended_ms, outcome, error FROM attempts "
                   "WHERE job_id = " + id + " ORDER BY attempt",
                   &attempts);
    }
    if (s.ok()) {
      s = RunQuery(stub_, Call(kCallSeconds),
                   "SELECT name, step, value, std, n_samples, evaluator FROM metrics WHERE job_id = " + id +
                       " ORDER BY name, step",
                   &metrics);
    }
    v1::ListArtifactsRequest list;
    list.set_job_id(PathId(req));
    v1::ListArtifactsResponse artifacts;
    if (s.ok()) s = stub_->ListArtifacts(Call(kCallSeconds).get(), list, &artifacts);
    if (!s.ok()) return SendError(res, s);
    nlohmann::json row = job.front();
    nlohmann::json result = row["result_json"].is_string() ? ParsedOrText(row["result_json"]) : nlohmann::json();
    row.erase("result_json");
    row["params"] = row["params_json"].is_string() ? ParsedOrText(row["params_json"]) : nlohmann::json();
    row.erase("params_json");
    nlohmann::json files = nlohmann::json::array();
    for (const auto& a : artifacts.artifacts()) files.push_back({{"name", a.name()}, {"bytes", a.bytes()}});
    SendJson(res, {{"job", row}, {"result", result}, {"attempts", attempts}, {"metrics", metrics}, {"artifacts", files}});
  });

  // An artifact as the coordinator stores it (checked against its hash
  // while it streams: a mismatch is an error, never a corrupt download).
  http->Get(R"(/api/jobs/(\d+)/artifacts/([A-Za-z0-9._-]+))", [this](const httplib::Request& req,
                                                                   httplib::Response& res) {
    v1::GetArtifactRequest request;
    request.set_job_id(PathId(req));
    request.set_name(req.matches[2].str());
    auto ctx = Call(300);
    auto reader = stub_->GetArtifact(ctx.get(), request);
    std::string content;
    v1::ArtifactChunk chunk;
    while (reader->Read(&chunk)) content += chunk.data();
    grpc::Status s = reader->Finish();
    if (!s.ok()) return SendError(res, s);
    const std::string type = ContentTypeOf(request.name());
    if (type == "application/octet-stream") {
      res.set_header("Content-Disposition", "attachment; filename=\"job-" + std::to_string(request.job_id()) + "-" +
                                                request.name() + "\"");
    }
    res.set_content(content, type.c_str());
  });

  http->Get("/api/workers", [this](const httplib::Request&, httplib::Response& res) {
    v1::ListWorkersResponse response;
    grpc::Status s = stub_->ListWorkers(Call(kCallSeconds).get(), {}, &response);
    if (!s.ok()) return SendError(res, s);
    nlohmann::json workers = nlohmann::json::array();
    for (const auto& w : response.workers()) workers.push_back(WorkerJson(w));
    SendJson(res, {{"now_ms", NowMs()}, {"workers", workers}});
  });
}

}  // namespace bitsweep::dashboard
