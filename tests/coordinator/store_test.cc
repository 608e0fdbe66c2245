// The results store on real SQLite files: migrations and the results view.
#include "coordinator/store.h"

#include <gtest/gtest.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include "common/layer_widths.h"
#include "coordinator/schema.h"
#include "tests/test_util.h"

namespace bitsweep::coordinator {
namespace {

using bitsweep::testing::TempDir;

std::vector<std::string> Tables(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  SQLite::Statement q(db, "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name");
  std::vector<std::string> names;
  while (q.executeStep()) names.push_back(q.getColumn(0).getString());
  return names;
}

TEST(StoreTest, MigratesAnEmptyFileToTheLatestSchema) {
  TempDir dir;
  auto store = Store::Open(dir.File("new.db"));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(store.value()->SchemaVersion().value(), LatestSchemaVersion());
  EXPECT_EQ(Tables(dir.File("new.db")),
            (std::vector<std::string>{"artifacts", "attempts", "jobs", "metrics", "ptq_measurements", "results",
                                      "store_info", "store_owner", "sweeps", "workers"}));
  SQLite::Database db(dir.File("new.db"), SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("PRAGMA journal_mode").getString(), "wal");
}

TEST(StoreTest, MigratesAVersion1FileKeepingItsData) {
  TempDir dir;
  const std::string path = dir.File("old.db");
  {
    auto v1 = Store::OpenAtVersion(path, 1);
    ASSERT_TRUE(v1.ok()) << v1.status().ToString();
    EXPECT_EQ(v1.value()->SchemaVersion().value(), 1);
  }
  EXPECT_EQ(Tables(path), (std::vector<std::string>{"attempts", "jobs", "metrics", "sweeps", "workers"}));
  {
    // What a version-1 coordinator wrote: a sweep with a finished job.
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("INSERT INTO sweeps (id, name, strategy, spec_json, state, priority, max_attempts, created_ms) "
            "VALUES (1, 'old sweep', 'grid', '{}', 'DONE', 0, 3, 1000)");
    db.exec("INSERT INTO jobs (id, sweep_id, ordinal, params_json, task, method_g, bits_g, method_d, bits_d, loss, "
            "dataset, seed, state, attempts, max_attempts, epoch, model_bytes, wall_seconds) VALUES "
            "(1, 1, 0, '{}', 'qgan', 'em', 2, 'none', 32, 'bce', 'fashion-mnist', 1, 'SUCCEEDED', 1, 3, 1, 999, 12.5)");
    db.exec("INSERT INTO metrics VALUES (1, 'fid', 100, 55.5, NULL, 1000, 'classifier', 'abc')");
    db.exec("INSERT INTO metrics VALUES (1, 'fid', 50, 80.0, NULL, 1000, 'classifier', 'abc')");
    db.exec("INSERT INTO metrics VALUES (1, 'is', 100, 3.25, 0.1, 1000, 'classifier', 'abc')");
  }
  auto store = Store::Open(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(store.value()->SchemaVersion().value(), LatestSchemaVersion());
  auto rows = store.value()->QueryResults(0);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  const ResultRecord& r = (*rows)[0];
  EXPECT_EQ(r.sweep, "old sweep");
  EXPECT_EQ(r.method_g, "em");
  EXPECT_EQ(r.bits_g, 2);
  EXPECT_TRUE(r.has_fid);
  EXPECT_DOUBLE_EQ(r.fid, 55.5);  // the latest step, not the earlier 80
  EXPECT_TRUE(r.has_is);
  EXPECT_DOUBLE_EQ(r.is, 3.25);
  // Each metric with its sampling standard error, where one was measured.
  EXPECT_FALSE(r.fid_se.has_value());
  ASSERT_TRUE(r.is_se.has_value());
  EXPECT_DOUBLE_EQ(*r.is_se, 0.1);
  EXPECT_FALSE(r.has_kid);
  EXPECT_EQ(r.model_bytes, 999);
  EXPECT_DOUBLE_EQ(r.wall_seconds, 12.5);
}

TEST(StoreTest, MigratesAVersion6FileGivingItsJobsTheirPerLayerWidths) {
  TempDir dir;
  const std::string path = dir.File("v6.db");
  // A grid over keep_first_last_fp, stored by a version-6 coordinator.
  const nlohmann::json spec = {
      {"name", "v6"},
      {"base", {{"task", "synthetic"}, {"quant", {{"g", {{"method", "minmax"}, {"bits", 3}}}}}}},
      {"strategy", {{"kind", "grid"}, {"axes", {{"quant.g.keep_first_last_fp", {false, true}}}}}}};
  auto sweep_spec = SweepSpec::FromJson(spec);
  ASSERT_TRUE(sweep_spec.ok()) << sweep_spec.status().ToString();
  auto plans = ExpandGrid(sweep_spec.value());
  ASSERT_TRUE(plans.ok());
  {
    auto v6 = Store::OpenAtVersion(path, 6);
    ASSERT_TRUE(v6.ok()) << v6.status().ToString();
    SweepRecord sweep;
    sweep.id = 1;
    sweep.name = "v6";
    sweep.strategy = "grid";
    sweep.spec_json = sweep_spec->ToJson().dump();
    std::vector<JobRecord> jobs;
    for (size_t i = 0; i < plans->size(); ++i) {
      JobRecord j;
      j.id = static_cast<int64_t>(i) + 1;
      j.sweep_id = 1;
      j.ordinal = static_cast<int64_t>(i);
      j.params_json = (*plans)[i].params.dump();
      j.task = "synthetic";
      j.method_g = "minmax";
      j.bits_g = 3;
      j.method_d = "none";
      j.loss = "bce";
      j.dataset = "fashion-mnist";
      jobs.push_back(j);
    }
    ASSERT_TRUE((*v6)->InTransaction([&] { return (*v6)->InsertSweep(&sweep, &jobs); }).ok());
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("UPDATE jobs SET state = 'SUCCEEDED'");
  }
  auto store = Store::Open(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(store.value()->SchemaVersion().value(), LatestSchemaVersion());
  auto rows = store.value()->QueryResults(1);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  // Worked out from each job's spec: the uniform one, and the one that
  // keeps its first and last layer at full precision.
  for (const auto& r : *rows) {
    const JobSpec job = JobSpec::FromJson(ApplyParams(sweep_spec->base, nlohmann::json::parse(r.params_json))).value();
    const auto widths = GeneratorWidths(job);
    EXPECT_EQ(r.widths_g, job.quant_g.keep_first_last_fp ? "32,3,3,32" : "3,3,3,3");
    EXPECT_EQ(r.widths_g, WidthsText(widths));
    ASSERT_TRUE(r.mean_bits_g.has_value());
    EXPECT_DOUBLE_EQ(*r.mean_bits_g, MeanBits(widths));
    EXPECT_EQ(r.widths_d, "32,32,32,32");
  }
  EXPECT_NE(rows->at(0).mean_bits_g, rows->at(1).mean_bits_g);
  EXPECT_EQ(Tables(path).at(4), "ptq_measurements");

  // New jobs carry their widths from the start.
  SweepRecord sweep;
  sweep.id = 2;
  sweep.name = "new";
  sweep.strategy = "grid";
  sweep.spec_json = sweep_spec->ToJson().dump();
  JobPlan plan = PlanJob(sweep_spec->base, {{"quant.g.layers", {{"conv4", {{"bits", 8}}}}}}).value();
  std::vector<JobRecord> jobs(1);
  jobs[0].id = 3;
  jobs[0].sweep_id = 2;
  jobs[0].params_json = plan.params.dump();
  const WidthsSummary g = SummarizeWidths(plan.spec, "g");
  jobs[0].widths_g = g.text;
  jobs[0].mean_bits_g = g.mean_bits;
  ASSERT_TRUE((*store)->InTransaction([&] { return (*store)->InsertSweep(&sweep, &jobs); }).ok());
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("UPDATE jobs SET state = 'SUCCEEDED' WHERE id = 3");
  }
  rows = store.value()->QueryResults(2);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->at(0).widths_g, "3,3,3,8");
}

TEST(StoreTest, KeepsPostTrainingMeasurementsUnderTheirKey) {
  TempDir dir;
  auto store = Store::Open(dir.File("m.db"));
  ASSERT_TRUE(store.ok());
  SweepRecord sweep;
  sweep.id = 1;
  sweep.name = "s";
  sweep.strategy = "grid";
  sweep.spec_json = "{}";
  std::vector<JobRecord> jobs(1);
  jobs[0].id = 7;
  jobs[0].sweep_id = 1;
  jobs[0].params_json = "{}";
  ASSERT_TRUE((*store)->InTransaction([&] { return (*store)->InsertSweep(&sweep, &jobs); }).ok());
  PtqMeasurement m;
  m.key = {"abc", "em", "32,2,32,32", 20, "ctx"};
  m.fid = 41.5;
  m.fid_se = 0.5;
  m.job_id = 7;
  ASSERT_TRUE((*store)->InTransaction([&] { return (*store)->PutMeasurements({m}, 1000); }).ok());
  auto found = (*store)->FindMeasurement(m.key);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_DOUBLE_EQ((*found)->fid, 41.5);
  EXPECT_EQ((*found)->fid_se, 0.5);
  EXPECT_FALSE((*found)->distortion.has_value());
  EXPECT_EQ((*found)->job_id, 7);
  // Any part of the key that differs is another measurement.
  for (auto other : {PtqMeasurementKey{"abd", "em", "32,2,32,32", 20, "ctx"},
                     PtqMeasurementKey{"abc", "minmax", "32,2,32,32", 20, "ctx"},
                     PtqMeasurementKey{"abc", "em", "32,3,32,32", 20, "ctx"},
                     PtqMeasurementKey{"abc", "em", "32,2,32,32", 0, "ctx"},
                     PtqMeasurementKey{"abc", "em", "32,2,32,32", 20, "other"}}) {
    EXPECT_FALSE((*store)->FindMeasurement(other)->has_value()) << other.widths;
  }
  auto baseline = (*store)->FindBaseline(7);
  ASSERT_TRUE(baseline.ok());
  EXPECT_FALSE(baseline->succeeded);
  EXPECT_TRUE(baseline->checkpoint_sha256.empty());
  EXPECT_EQ((*store)->FindBaseline(8).status().code(), StatusCode::kNotFound);
}

TEST(StoreTest, RefusesAFileFromANewerVersion) {
  TempDir dir;
  const std::string path = dir.File("future.db");
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("PRAGMA user_version = 99");
  }
  auto store = Store::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("schema version 99"), std::string::npos) << store.status().message();
}

TEST(StoreTest, NamesTheFileWhenItIsNotADatabase) {
  TempDir dir;
  const std::string path = dir.File("text.db");
  bitsweep::testing::WriteFile(path, std::string(4096, 'x'));
  auto store = Store::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find(path), std::string::npos) << store.status().message();
  EXPECT_EQ(bitsweep::testing::ReadFile(path), std::string(4096, 'x'));  // untouched
}

TEST(StoreTest, ResultsViewHasOneRowPerFinishedJob) {
  TempDir dir;
  auto store = Store::Open(dir.File("r.db")).value();
  SweepRecord sweep;
  sweep.name = "grid";
  sweep.strategy = "grid";
  sweep.spec_json = "{}";
  sweep.id = 1;
  std::vector<JobRecord> jobs(3);
  for (size_t i = 0; i < jobs.size(); ++i) {
    jobs[i].id = static_cast<int64_t>(i) + 1;
    jobs[i].sweep_id = 1;
    jobs[i].ordinal = static_cast<int64_t>(i);
    jobs[i].params_json = "{}";
    jobs[i].task = "synthetic";
    jobs[i].method_g = i == 0 ? "none" : "em";
    jobs[i].bits_g = i == 0 ? 32 : static_cast<int>(i);
    jobs[i].method_d = "none";
    jobs[i].loss = "bce";
    jobs[i].dataset = "fashion-mnist";
    jobs[i].seed = 1;
  }
  ASSERT_TRUE(store->InTransaction([&] { return store->InsertSweep(&sweep, &jobs); }).ok());
  // Job 0 succeeds, job 1 fails, job 2 is still queued.
  JobRecord ok = jobs[0];
  ok.attempts = 1;
  ok.epoch = 1;
  ok.worker_id = "w-1";
  ASSERT_TRUE(store->MarkLeased(ok, 10).ok());
  CompletionReport c;
  c.result_json = "{}";
  c.model_bytes = 100;
  c.wall_seconds = 2.0;
  MetricValue fid;
  fid.metric = "fid";
  fid.value = 12.0;
  fid.step = 3;
  fid.evaluator = "classifier";
  fid.evaluator_hash = "x";
  c.metrics = {fid};
  ASSERT_TRUE(store->MarkSucceeded(ok, c, {}, 20).ok());
  JobRecord bad = jobs[1];
  bad.attempts = 1;
  bad.epoch = 1;
  bad.worker_id = "w-1";
  ASSERT_TRUE(store->MarkLeased(bad, 10).ok());
  bad.state = JobState::kFailed;
  bad.last_error = "diverged";
  ASSERT_TRUE(store->MarkAttemptEnded(bad, "failed", "diverged", 30).ok());

  auto rows = store->QueryResults(sweep.id).value();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].state, "SUCCEEDED");
  EXPECT_EQ(rows[0].method_g, "none");
  EXPECT_DOUBLE_EQ(rows[0].fid, 12.0);
  EXPECT_EQ(rows[1].state, "FAILED");
  EXPECT_FALSE(rows[1].has_fid);
  EXPECT_EQ(store->QueryResults(sweep.id + 1).value().size(), 0u);
  EXPECT_EQ(store->GetJob(bad.id)->last_error, "diverged");
}

}  // namespace
}  // namespace bitsweep::coordinator
