// The service end to end, as users run it: real `bitsweep` processes (a
// coordinator, two workers, the client commands) talking gRPC over loopback,
// real Fashion-MNIST training, a real SQLite file.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <map>
#include <regex>
#include <sstream>

#include <future>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "bitsweep/v1/bitsweep.grpc.pb.h"
#include "tests/e2e/e2e_fixture.h"
#include "tests/test_util.h"

namespace bitsweep {
namespace {

TEST_F(ServiceE2ETest, GridOfRealQganJobsOnTwoWorkers) {
  int rc = 0;
  // A quick classifier evaluator (1 epoch on 2,000 images): enough to give
  // FID and IS their feature space.
  const std::string classifier = dir_.File("classifier.pt");
  std::string out = Shell(kBinary + " evaluator train --dataset fashion-mnist --epochs 1 --limit 2000 --threads 1 --out " +
                              classifier,
                          &rc);
  ASSERT_EQ(rc, 0) << out;

  nlohmann::json base = testing::TinyJobJson(/*iterations=*/20, /*limit=*/1024);
  base["eval"] = {{"evaluator", {{"kind", "classifier"}, {"path", classifier}}},
                  {"metrics", {"fid", "is", "kid"}},
                  {"num_samples", 256}};
  const std::string spec = WriteSweep({{"name", "e2e-grid"},
                                       {"base", base},
                                       {"strategy",
                                        {{"kind", "grid"},
                                         {"axes", {{"quant.g.method", {"em", "minmax"}}, {"quant.g.bits", {1, 2}}}}}}});

  const std::string address = StartCoordinator();
  auto w1 = StartWorker(address, 1);
  auto w2 = StartWorker(address, 2);
  const std::string client = " --coordinator " + address;

  out = Shell(kBinary + " submit --watch --spec " + spec + client, &rc);
  ASSERT_EQ(rc, 0) << out << "\n" << w1->Log() << "\n" << w2->Log();
  EXPECT_NE(out.find("sweep 1 submitted: 4 jobs"), std::string::npos) << out;

  // One row per job, each with FID and IS from the classifier.
  out = Shell(kBinary + " results 1 --format csv" + client, &rc);
  ASSERT_EQ(rc, 0) << out;
  auto lines = Lines(out);
  ASSERT_EQ(lines.size(), 5u) << out;
  auto header = Split(lines[0]);
  auto col = [&](const std::string& name) {
    return static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  ASSERT_LT(col("fid"), header.size());
  std::set<std::string> points;
  for (size_t i = 1; i < lines.size(); ++i) {
    auto cells = Split(lines[i]);
    ASSERT_EQ(cells.size(), header.size()) << lines[i];
    EXPECT_EQ(cells[col("state")], "SUCCEEDED");
    EXPECT_GT(std::stod(cells[col("fid")]), 0.0) << lines[i];
    EXPECT_GE(std::stod(cells[col("is")]), 1.0) << lines[i];
    EXPECT_FALSE(cells[col("kid")].empty());
    EXPECT_GT(std::stoll(cells[col("model_bytes")]), 0);
    points.insert(cells[col("method_g")] + "@" + cells[col("bits_g")]);
  }
  EXPECT_EQ(points, (std::set<std::string>{"em@1", "em@2", "minmax@1", "minmax@2"}));

  // A sample grid per job, downloadable.
  out = Shell(kBinary + " artifacts list --sweep 1" + client, &rc);
  ASSERT_EQ(rc, 0) << out;
  // header + 3 artifacts (samples.png, generator.bsg, and log.txt: each
  // job ran in a process of its own) x 4 jobs
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1 + 12) << out;
  const std::string png = dir_.File("grid.png");
  out = Shell(kBinary + " artifacts get --job 1 samples.png -o " + png + client, &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(testing::ReadFile(png).substr(1, 3), "PNG");
  out = Shell(kBinary + " artifacts get --job 1 log.txt -o " + dir_.File("log.txt") + client, &rc);
  ASSERT_EQ(rc, 0) << out;
  const std::string job_log = testing::ReadFile(dir_.File("log.txt"));
  EXPECT_NE(job_log.find("job 1 attempt 1: task qgan"), std::string::npos) << job_log;
  EXPECT_NE(job_log.find("succeeded in"), std::string::npos) << job_log;

  // Both workers took part.
  out = Shell(kBinary + " status 1" + client, &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("w-1"), std::string::npos) << out;
  EXPECT_NE(out.find("w-2"), std::string::npos) << out;
  out = Shell(kBinary + " workers" + client, &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(Lines(out).size(), 3u) << out;

  // The store is a plain SQLite file users can query read-only.
  out = Shell("sqlite3 -readonly " + dir_.File("store.db") + " 'SELECT COUNT(*) FROM results WHERE fid > 0'", &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "4\n");
}

TEST_F(ServiceE2ETest, BadInputIsRefusedWithTheFieldOrId) {
  const std::string address = StartCoordinator();
  const std::string client = " --coordinator " + address;
  int rc = 0;
  nlohmann::json sweep = {{"name", "bad"},
                          {"base", {{"task", "synthetic"}, {"quant", {{"g", {{"method", "em"}, {"bits", 2}}}}}}},
                          {"strategy", {{"kind", "grid"}, {"axes", {{"quant.g.bits", {2, 12}}}}}}};
  std::string out = Shell(kBinary + " submit --spec " + WriteSweep(sweep) + client, &rc);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("quant.g.bits=12"), std::string::npos) << out;
  out = Shell(kBinary + " status" + client, &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(Lines(out).size(), 1u) << "nothing was stored: " << out;
  out = Shell(kBinary + " status 42" + client, &rc);
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("NOT_FOUND"), std::string::npos) << out;
  EXPECT_NE(out.find("sweep 42"), std::string::npos) << out;
  out = Shell(kBinary + " cancel --job 42" + client, &rc);
  EXPECT_NE(out.find("NOT_FOUND"), std::string::npos) << out;
}

TEST_F(ServiceE2ETest, AKilledWorkersJobFinishesOnTheIdleOneWithOneResult) {
  // Short leases so that a dead worker is noticed quickly.
  const std::string address = StartCoordinator({"--lease-ttl", "2", "--heartbeat", "0.5"});
  const std::string client = " --coordinator " + address;
  auto w1 = StartWorker(address, 1);
  int rc = 0;
  nlohmann::json sweep = {{"name", "kill"},
                          {"base", {{"task", "synthetic"}, {"synthetic", {{"seconds", 3.0}}}}},
                          {"strategy", {{"kind", "grid"}, {"axes", {{"train.seed", {1}}}}}}};
  std::string out = Shell(kBinary + " submit --spec " + WriteSweep(sweep) + client, &rc);
  ASSERT_EQ(rc, 0) << out;
  ASSERT_FALSE(w1->WaitForLog("(job 1 \\(attempt 1\\) leased)", 20).empty()) << w1->Log();
  // The second worker is idle (nothing left to lease) when the first dies.
  auto w2 = StartWorker(address, 2);
  w1->Signal(SIGKILL);
  w1->Wait();

  out = Shell(kBinary + " watch 1" + client, &rc);
  ASSERT_EQ(rc, 0) << out << w2->Log();
  out = Shell(kBinary + " status 1" + client, &rc);
  EXPECT_NE(out.find("DONE  1 jobs: 1 succeeded"), std::string::npos) << out;
  EXPECT_NE(out.find("2/3"), std::string::npos) << "the job needed a second attempt: " << out;
  EXPECT_FALSE(w2->WaitForLog("(job 1 \\(attempt 2\\) leased)", 1).empty()) << w2->Log();
  out = Shell(kBinary + " results 1 --format json" + client, &rc);
  auto rows = nlohmann::json::parse(out);
  ASSERT_EQ(rows.size(), 1u) << out;
  EXPECT_EQ(rows[0]["state"], "SUCCEEDED");
  // Exactly one result: one success among the attempts, one set of metrics.
  EXPECT_EQ(Query("SELECT group_concat(outcome, ',') FROM (SELECT outcome FROM attempts WHERE job_id = 1 ORDER BY attempt)"),
            "expired,succeeded");
  EXPECT_EQ(Query("SELECT COUNT(*) FROM metrics WHERE job_id = 1 AND name = 'fid'"), "1");
}

TEST_F(ServiceE2ETest, LocalSweepInterruptedAndRunAgainResumesWithoutSpendingAttempts) {
  nlohmann::json sweep = {{"name", "resume"},
                          {"base", {{"task", "synthetic"}, {"synthetic", {{"seconds", 2.0}}}}},
                          {"strategy", {{"kind", "grid"}, {"axes", {{"train.seed", {1, 2, 3}}}}}},
                          {"max_attempts", 1}};
  const std::string spec = WriteSweep(sweep);
  const std::string db = dir_.File("local/store.db");
  const std::vector<std::string> argv = {kBinary, "local", "--spec", spec, "--db", db, "--workers", "2"};
  {
    ChildProcess first(argv, dir_.File("local1.log"));
    ASSERT_FALSE(first.WaitForLog("(job 2 RUNNING)", 30).empty()) << first.Log();
    first.Signal(SIGINT);
    EXPECT_EQ(first.Wait(), 130) << first.Log();
  }
  ChildProcess second(argv, dir_.File("local2.log"));
  EXPECT_EQ(second.Wait(), 0) << second.Log();
  const std::string log = second.Log();
  EXPECT_NE(log.find("resuming sweep 1"), std::string::npos) << log;
  EXPECT_NE(log.find("3 jobs: 3 succeeded"), std::string::npos) << log;
}

TEST_F(ServiceE2ETest, LocalPrintsTheErrorOfAFailedJob) {
  const std::string spec = WriteSweep({{"name", "failing"},
                                       {"base", {{"task", "synthetic"}, {"synthetic", {{"failure_rate", 1.0}}}}},
                                       {"strategy", {{"kind", "grid"}, {"axes", {{"train.seed", {1}}}}}},
                                       {"max_attempts", 1}});
  int rc = 0;
  const std::string out = Shell(kBinary + " local --quiet --spec " + spec + " --db " + dir_.File("l/store.db"), &rc);
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("failed jobs:\n  job 1 {\"train.seed\":1}: "), std::string::npos) << out;
  EXPECT_NE(out.find("synthetic failure injected"), std::string::npos) << out;
}

TEST_F(ServiceE2ETest, LocalShowsAFinishedSweepInsteadOfRunningItAgainUnlessAskedTo) {
  const std::string spec = WriteSweep({{"name", "twice"},
                                       {"base", {{"task", "synthetic"}}},
                                       {"strategy", {{"kind", "grid"}, {"axes", {{"train.seed", {1, 2}}}}}}});
  const std::string local = kBinary + " local --quiet --spec " + spec + " --db " + dir_.File("l/store.db");
  int rc = 0;
  std::string out = Shell(local, &rc);
  ASSERT_EQ(rc, 0) << out;
  out = Shell(local, &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("sweep 1 \"twice\" already ran to the end"), std::string::npos) << out;
  EXPECT_NE(out.find("2 jobs: 2 succeeded"), std::string::npos) << out;  // its results, shown again
  int jobs_rc = 0;
  EXPECT_EQ(Shell("sqlite3 -readonly " + dir_.File("l/store.db") + " 'SELECT COUNT(*) FROM jobs'", &jobs_rc), "2\n");
  out = Shell(local + " --rerun", &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(Shell("sqlite3 -readonly " + dir_.File("l/store.db") + " 'SELECT COUNT(*) FROM jobs'", &jobs_rc), "4\n");
}

TEST_F(ServiceE2ETest, StandardHealthCheckSaysServing) {
  const std::string address = StartCoordinator();
  // grpc.health.v1.Health/Check with an empty request (the whole server),
  // spoken as raw bytes the way grpc_health_probe does.
  grpc::GenericStub stub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Slice empty(std::string(""));
  grpc::ByteBuffer request(&empty, 1), response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status status) { done.set_value(status); });
  grpc::Status status = done.get_future().get();
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const auto& slice : slices) bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  EXPECT_EQ(bytes, std::string("\x08\x01"));  // HealthCheckResponse{status: SERVING}
}

// One request, one answer on a bidirectional stream, as raw bytes.
class OneShotBidi : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit OneShotBidi(const std::string& request_bytes) : slice_(request_bytes), request_(&slice_, 1) {}
  void Start() {
    StartWrite(&request_);
    StartRead(&response_);
    StartCall();
  }
  void OnWriteDone(bool) override { StartWritesDone(); }
  void OnReadDone(bool) override {}
  void OnDone(const grpc::Status& status) override { done_.set_value(status); }
  grpc::Status Wait() { return done_.get_future().get(); }
  std::string ResponseBytes() {
    std::vector<grpc::Slice> slices;
    std::string bytes;
    if (response_.Dump(&slices).ok()) {
      for (const auto& slice : slices) bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
    }
    return bytes;
  }

 private:
  grpc::Slice slice_;
  grpc::ByteBuffer request_, response_;
  std::promise<grpc::Status> done_;
};

TEST_F(ServiceE2ETest, ServerReflectionListsTheServices) {
  const std::string address = StartCoordinator();
  grpc::GenericStub stub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  // ServerReflectionRequest{list_services: ""}: field 7, length-delimited, empty.
  OneShotBidi call(std::string("\x3a\x00", 2));
  stub.PrepareBidiStreamingCall(&ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                                grpc::StubOptions(), &call);
  call.Start();
  grpc::Status status = call.Wait();
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string bytes = call.ResponseBytes();
  EXPECT_NE(bytes.find("bitsweep.v1.SweepService"), std::string::npos);
  EXPECT_NE(bytes.find("bitsweep.v1.WorkerService"), std::string::npos);
}

// A watch reads only from the first job it last saw unfinished: jobs that
// finish after later ones (long and short jobs side by side on four slots)
// and jobs a grid plans as it runs must still all reach the watcher.
TEST_F(ServiceE2ETest, WatchSweepDeliversEveryJobsFinalStateWhenJobsFinishOutOfOrder) {
  const std::string address = StartCoordinator();
  // One axis, so that the order is the list's: long and short jobs alternate.
  nlohmann::json points = nlohmann::json::array();
  for (int i = 0; i < 8; ++i) points.push_back({{"seconds", i % 2 == 0 ? 1.5 : 0.05}, {"noise", 0.001 * i}});
  nlohmann::json sweep = {{"name", "out-of-order"},
                          {"base", {{"task", "synthetic"}}},
                          {"strategy", {{"kind", "grid"}, {"axes", {{"synthetic", points}}}}}};
  ASSERT_TRUE(Submit(sweep, address));

  auto stub = v1::SweepService::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  v1::WatchSweepRequest request;
  request.set_sweep_id(1);
  auto reader = stub->WatchSweep(&ctx, request);
  auto worker = StartWorker(address, 1, {"--slots", "4"});
  std::map<int64_t, v1::JobState> last_seen;
  std::vector<int64_t> finished_order;
  v1::SweepEvent event;
  bool ended = false;
  while (reader->Read(&event)) {
    for (const auto& job : event.jobs()) {
      if (job.state() == v1::JOB_SUCCEEDED && last_seen[job.id()] != v1::JOB_SUCCEEDED) {
        finished_order.push_back(job.id());
      }
      last_seen[job.id()] = job.state();
    }
    ended = ended || event.kind() == v1::EVENT_END;
  }
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_TRUE(ended);
  ASSERT_EQ(last_seen.size(), 8u);
  for (const auto& [id, state] : last_seen) EXPECT_EQ(state, v1::JOB_SUCCEEDED) << "job " << id;
  // The point of the test: some job finished after a job with a higher id.
  EXPECT_FALSE(std::is_sorted(finished_order.begin(), finished_order.end())) << worker->Log();
}

TEST_F(ServiceE2ETest, ListJobsPagesASweepAndSaysHowManyJobsItHas) {
  const std::string address = StartCoordinator();
  ASSERT_TRUE(Submit(SyntheticGrid("pages", 7, 0.01), address));
  auto stub = v1::SweepService::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  auto list = [&](int64_t offset, int32_t limit, v1::ListJobsResponse* response) {
    grpc::ClientContext ctx;
    v1::ListJobsRequest request;
    request.set_sweep_id(1);
    request.set_offset(offset);
    request.set_limit(limit);
    return stub->ListJobs(&ctx, request, response);
  };
  v1::ListJobsResponse all;
  ASSERT_TRUE(list(0, 0, &all).ok());
  ASSERT_EQ(all.jobs_size(), 7);
  EXPECT_EQ(all.total(), 7);

  // Pages cover the sweep in order, each job once.
  std::vector<int64_t> paged;
  for (int64_t offset = 0; offset < 7; offset += 3) {
    v1::ListJobsResponse page;
    ASSERT_TRUE(list(offset, 3, &page).ok());
    EXPECT_EQ(page.total(), 7) << "offset " << offset;
    EXPECT_EQ(page.jobs_size(), offset == 6 ? 1 : 3) << "offset " << offset;
    for (const auto& job : page.jobs()) paged.push_back(job.id());
  }
  std::vector<int64_t> expected;
  for (const auto& job : all.jobs()) expected.push_back(job.id());
  EXPECT_EQ(paged, expected);
  v1::ListJobsResponse past_the_end;
  ASSERT_TRUE(list(50, 3, &past_the_end).ok());
  EXPECT_EQ(past_the_end.jobs_size(), 0);
  EXPECT_EQ(past_the_end.total(), 7);

  v1::ListJobsResponse refused;
  grpc::Status negative = list(-1, 3, &refused);
  EXPECT_EQ(negative.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(negative.error_message().find("offset"), std::string::npos) << negative.error_message();
  negative = list(0, -2, &refused);
  EXPECT_EQ(negative.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(negative.error_message().find("limit"), std::string::npos) << negative.error_message();
}

TEST_F(ServiceE2ETest, StreamResultsSendsTheRowsQueryResultsDoesInChunks) {
  const std::string address = StartCoordinator();
  ASSERT_TRUE(Submit(SyntheticGrid("chunks", 7, 0.01), address));
  auto worker = StartWorker(address, 1, {"--slots", "4"});
  ASSERT_TRUE(WaitDone(1, 120)) << worker->Log();
  auto stub = v1::SweepService::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));

  v1::QueryResultsRequest request;
  request.set_sweep_id(1);
  v1::QueryResultsResponse whole;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->QueryResults(&ctx, request, &whole).ok());
  }
  ASSERT_EQ(whole.rows_size(), 7);
  auto stream = [&](int chunk_rows, std::vector<int>* sizes, v1::QueryResultsResponse* rows) {
    grpc::ClientContext ctx;
    v1::QueryResultsRequest chunked = request;
    chunked.set_chunk_rows(chunk_rows);
    auto reader = stub->StreamResults(&ctx, chunked);
    v1::QueryResultsResponse chunk;
    while (reader->Read(&chunk)) {
      sizes->push_back(chunk.rows_size());
      rows->MergeFrom(chunk);
    }
    return reader->Finish();
  };
  std::vector<int> sizes;
  v1::QueryResultsResponse streamed;
  ASSERT_TRUE(stream(3, &sizes, &streamed).ok());
  EXPECT_EQ(sizes, (std::vector<int>{3, 3, 1}));
  EXPECT_EQ(streamed.SerializeAsString(), whole.SerializeAsString()) << "the same rows in the same order";
  sizes.clear();
  streamed.Clear();
  ASSERT_TRUE(stream(0, &sizes, &streamed).ok());
  EXPECT_EQ(sizes, std::vector<int>{7}) << "0: the default chunk, larger than this sweep";
  EXPECT_EQ(streamed.SerializeAsString(), whole.SerializeAsString());

  grpc::Status refused = stream(-1, &sizes, &streamed);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(refused.error_message().find("chunk_rows"), std::string::npos) << refused.error_message();
  request.set_sweep_id(99);
  EXPECT_EQ(stream(3, &sizes, &streamed).error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace bitsweep
