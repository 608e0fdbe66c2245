// Adaptive searches end to end: real coordinator and worker processes over
// loopback. The multi-precision search must reach the same answer when its
// coordinator is killed (SIGKILL) at random points and restarted on the same
// file; successive halving must continue real training from the checkpoints
// the previous rung uploaded.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <random>
#include <thread>

#include "common/layer_widths.h"
#include "tests/e2e/e2e_fixture.h"

namespace bitsweep {
namespace {

class SearchE2ETest : public ServiceE2ETest {
 protected:
  // Every one of `jobs` is a `protocol` row made from the sweep's
  // full-precision baseline: from that job's uploaded checkpoint, the same
  // SHA-256, after `steps` steps of its own. Returns the baseline's job id.
  std::string ExpectMadeFromTheBaseline(const std::vector<std::string>& jobs, const std::string& protocol,
                                        int steps) {
    const std::string baseline = Query("SELECT job FROM results WHERE method_g = 'none'");
    EXPECT_FALSE(baseline.empty());
    if (baseline.empty()) return baseline;
    const std::string checkpoint_sha =
        Query("SELECT sha256 FROM artifacts WHERE name = 'checkpoint.pt' AND job_id = " + baseline);
    EXPECT_EQ(checkpoint_sha.size(), 64u);
    EXPECT_FALSE(jobs.empty());
    for (const auto& job : jobs) {
      EXPECT_EQ(Query("SELECT protocol FROM results WHERE job = " + job), protocol);
      const auto result = nlohmann::json::parse(Query("SELECT result_json FROM jobs WHERE id = " + job));
      EXPECT_EQ(result["init_from"]["job"].get<int64_t>(), std::stoll(baseline)) << result.dump();
      EXPECT_EQ(result["init_from"]["sha256"], checkpoint_sha) << result.dump();
      EXPECT_EQ(result["steps"], steps) << result.dump();
    }
    return baseline;
  }
};

nlohmann::json MultiPrecisionSweep() {
  return {{"name", "mp-e2e"},
          {"base",
           {{"task", "synthetic"},
            {"synthetic",
             {{"seconds", 0.3}, {"fid_full_precision", 20.0}, {"sensitivity_g", 0.2}, {"sensitivity_d", 0.05}}}}},
          {"strategy",
           {{"kind", "multi_precision"},
            {"methods", {"em", "minmax", "tanh"}},
            {"bits", {1, 2, 3, 4, 6, 8}},
            {"requirement", {{"metric", "fid"}, {"relative_to_baseline", 1.10}}},
            {"seeds", {1, 2}},
            {"max_in_flight", 4}}}};
}

TEST_F(SearchE2ETest, MultiPrecisionGetsTheSameAnswerWhenItsCoordinatorIsKilledAtRandomPoints) {
  const std::vector<std::string> fast = {"--lease-ttl", "3", "--heartbeat", "0.5"};
  std::string address = StartCoordinator(fast);
  const std::string port = address.substr(address.rfind(':') + 1);
  auto w1 = StartWorker(address, 1);
  auto w2 = StartWorker(address, 2);
  const std::string spec = WriteSweep(MultiPrecisionSweep());
  int rc = 0;
  std::string out = Shell(kBinary + " submit --spec " + spec + " --coordinator " + address, &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("multi_precision search"), std::string::npos) << out;

  // Kill the coordinator at random moments of the search (seeded), restart
  // it on the same file and port; the workers find it again by themselves.
  std::mt19937 rng(2024);
  std::uniform_int_distribution<int> wait_ms(300, 1500);
  int kills = 0;
  while (kills < 6 && Query("SELECT state FROM sweeps WHERE id = 1") == "RUNNING") {
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms(rng)));
    coordinator_->Signal(SIGKILL);
    coordinator_->Wait();
    ++kills;
    StartCoordinator(fast, "127.0.0.1:" + port);
  }
  EXPECT_GE(kills, 3) << "the search ended before the coordinator was killed enough times";
  ASSERT_TRUE(WaitDone(1, 240)) << coordinator_->Log() << w1->Log() << w2->Log();

  // The same search again, undisturbed: the reference answer.
  out = Shell(kBinary + " submit --spec " + spec + " --coordinator " + address, &rc);
  ASSERT_EQ(rc, 0) << out;
  ASSERT_TRUE(WaitDone(2, 240)) << coordinator_->Log();

  auto outcome = [&](int sweep) {
    return nlohmann::json::parse(Query("SELECT strategy_outcome FROM sweeps WHERE id = " + std::to_string(sweep)));
  };
  const auto killed = outcome(1), calm = outcome(2);
  EXPECT_EQ(killed["methods"], calm["methods"]) << killed.dump(1) << "\n" << calm.dump(1);
  for (const auto& [method, chosen] : killed["methods"].items()) {
    EXPECT_EQ(chosen["g"]["status"], "found") << method;
  }
  // Every job ran to one result; no configuration ran twice for a seed.
  EXPECT_EQ(Query("SELECT COUNT(*) FROM jobs WHERE sweep_id = 1 AND state != 'SUCCEEDED'"), "0");
  EXPECT_EQ(Query("SELECT COUNT(*) - COUNT(DISTINCT params_json) FROM jobs WHERE sweep_id = 1"), "0");
  EXPECT_LT(std::stoi(Query("SELECT COUNT(*) FROM jobs WHERE sweep_id = 1")), killed["grid_jobs"].get<int>());

  // The summary and the plot users read.
  out = Shell(kBinary + " results --sweep 1 --summary --coordinator " + address, &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("chosen bit-widths"), std::string::npos) << out;
  EXPECT_NE(out.find("fid <= 1.1 x baseline"), std::string::npos) << out;
  EXPECT_NE(out.find("Pareto front"), std::string::npos) << out;
  const std::string png = dir_.File("search.png");
  out = Shell(kBinary + " plot --sweep 1 -o " + png + " --coordinator " + address, &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(testing::ReadFile(png).substr(1, 3), "PNG");
}

// A tiny real job measuring FID with a quick classifier evaluator (1 epoch
// on 1,000 images, trained into `classifier`); null if that failed.
nlohmann::json TinyJobWithFid(int64_t iterations, const std::string& classifier) {
  int rc = 0;
  std::string out = Shell(kBinary + " evaluator train --dataset fashion-mnist --epochs 1 --limit 1000 --threads 1 --out " +
                              classifier,
                          &rc);
  EXPECT_EQ(rc, 0) << out;
  if (rc != 0) return nullptr;
  nlohmann::json base = testing::TinyJobJson(iterations, /*limit=*/512);
  base["eval"] = {{"evaluator", {{"kind", "classifier"}, {"path", classifier}}},
                  {"metrics", {"fid"}},
                  {"num_samples", 128}};
  return base;
}

// A real em-only search for G over 1 and 2 bits on one seed (point
// estimates, no D search), with `switches` added to its strategy.
nlohmann::json TinyEmSearch(const std::string& name, const nlohmann::json& base, const nlohmann::json& switches) {
  nlohmann::json strategy = {{"kind", "multi_precision"},
                             {"methods", {"em"}},
                             {"bits", {1, 2}},
                             {"requirement", {{"metric", "fid"}, {"relative_to_baseline", 1.5}}},
                             {"seeds", {1}},
                             {"confidence", 0},
                             {"search_d", false}};
  strategy.update(switches);
  return {{"name", name}, {"base", base}, {"strategy", strategy}};
}

TEST_F(SearchE2ETest, SuccessiveHalvingContinuesRealTrainingFromTheUploadedCheckpoint) {
  int rc = 0;
  const nlohmann::json base = TinyJobWithFid(/*iterations=*/10, dir_.File("classifier.pt"));
  ASSERT_FALSE(base.is_null());
  std::string out;
  const std::string spec = WriteSweep({{"name", "sh-e2e"},
                                       {"base", base},
                                       {"strategy",
                                        {{"kind", "successive_halving"},
                                         {"axes", {{"quant.g.method", {"em", "minmax"}}, {"quant.g.bits", {2}}}},
                                         {"metric", "fid"},
                                         {"min_iterations", 6},
                                         {"max_iterations", 12},
                                         {"eta", 2}}}});
  const std::string address = StartCoordinator();
  auto w1 = StartWorker(address, 1);
  auto w2 = StartWorker(address, 2);
  out = Shell(kBinary + " submit --watch --spec " + spec + " --coordinator " + address, &rc);
  ASSERT_EQ(rc, 0) << out << w1->Log() << w2->Log();

  // Two configurations at 6 iterations, the better one on to 12.
  ASSERT_EQ(Query("SELECT COUNT(*) FROM jobs WHERE sweep_id = 1"), "3");
  const std::string last = Query("SELECT id FROM jobs WHERE json_extract(params_json, '$.\\\"train.iterations\\\"') = 12");
  ASSERT_FALSE(last.empty());
  const std::string parent =
      Query("SELECT json_extract(params_json, '$.\\\"train.resume_from_job\\\"') FROM jobs WHERE id = " + last);
  // The parent uploaded its checkpoint; the continuation started from its
  // step 6 (not from scratch) and trained on to 12.
  EXPECT_EQ(Query("SELECT COUNT(*) FROM artifacts WHERE name = 'checkpoint.pt' AND job_id = " + parent), "1");
  EXPECT_EQ(Query("SELECT COUNT(*) FROM artifacts WHERE name = 'checkpoint.pt' AND job_id = " + last), "0");
  const auto result = nlohmann::json::parse(Query("SELECT result_json FROM jobs WHERE id = " + last));
  EXPECT_EQ(result["resumed_from_step"], 6) << result.dump();
  EXPECT_EQ(result["steps"], 12) << result.dump();

  out = Shell(kBinary + " results 1 --summary --coordinator " + address, &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("best:"), std::string::npos) << out;
  EXPECT_NE(out.find("after 12 iterations"), std::string::npos) << out;
}

TEST_F(SearchE2ETest, AWarmStartedMultiPrecisionSearchFineTunesFromItsRealBaseline) {
  int rc = 0;
  const nlohmann::json base = TinyJobWithFid(/*iterations=*/12, dir_.File("classifier.pt"));
  ASSERT_FALSE(base.is_null());
  std::string out;
  const std::string spec = WriteSweep(TinyEmSearch("warm-e2e", base, {{"warm_start", true}}));
  const std::string address = StartCoordinator();
  auto w1 = StartWorker(address, 1);
  out = Shell(kBinary + " submit --watch --spec " + spec + " --coordinator " + address, &rc);
  ASSERT_EQ(rc, 0) << out << w1->Log();

  // The baseline trained from scratch and uploaded its checkpoint; every
  // quantized job started from exactly that file (same SHA-256) and
  // trained its own 12 iterations.
  const auto quantized = Lines(Query("SELECT job FROM results WHERE method_g = 'em'"));
  const std::string baseline = ExpectMadeFromTheBaseline(quantized, "warm-start", /*steps=*/12);
  ASSERT_FALSE(baseline.empty());
  EXPECT_EQ(Query("SELECT protocol FROM results WHERE job = " + baseline), "from-scratch");
  for (const auto& job : quantized) {
    const auto result = nlohmann::json::parse(Query("SELECT result_json FROM jobs WHERE id = " + job));
    EXPECT_EQ(result["resumed_from_step"], 0);
  }
  out = Shell(kBinary + " results 1 --coordinator " + address, &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("warm-start"), std::string::npos) << out;
}

TEST_F(SearchE2ETest, ThePtqScreenQuantizesTheRealBaselineAndTrainsNoWidthItsPtqGeneratorMeets) {
  int rc = 0;
  const nlohmann::json base = TinyJobWithFid(/*iterations=*/12, dir_.File("classifier.pt"));
  ASSERT_FALSE(base.is_null());
  const std::string spec =
      WriteSweep(TinyEmSearch("screen-e2e", base, {{"ptq_screen", true}, {"ptq_bn_batches", 2}}));
  const std::string address = StartCoordinator();
  auto w1 = StartWorker(address, 1);
  std::string out = Shell(kBinary + " submit --watch --spec " + spec + " --coordinator " + address, &rc);
  ASSERT_EQ(rc, 0) << out << w1->Log();

  // Every PTQ job quantized the baseline's own checkpoint (the same
  // SHA-256), trained nothing, and re-estimated batch norm as asked.
  const auto post_training = Lines(Query("SELECT job FROM results WHERE task = 'ptq'"));
  ASSERT_FALSE(ExpectMadeFromTheBaseline(post_training, "ptq", /*steps=*/0).empty());
  ASSERT_FALSE(post_training.empty());
  for (const auto& job : post_training) {
    const auto result = nlohmann::json::parse(Query("SELECT result_json FROM jobs WHERE id = " + job));
    EXPECT_EQ(result["spec"]["ptq"]["bn_batches"], 2);
    EXPECT_FALSE(Query("SELECT fid_se FROM results WHERE job = " + job).empty());
  }
  // No width at or above the narrowest PTQ one that met was trained.
  const auto outcome = nlohmann::json::parse(Query("SELECT strategy_outcome FROM sweeps WHERE id = 1"));
  ASSERT_TRUE(outcome["done"].get<bool>()) << outcome.dump();
  EXPECT_EQ(outcome["ptq_jobs"].get<size_t>(), post_training.size());
  const auto& chosen = outcome["methods"]["em"]["g"];
  if (chosen["status"] == "found" && chosen["by"] == "ptq") {
    EXPECT_EQ(Query("SELECT COUNT(*) FROM results WHERE task = 'qgan' AND method_g = 'em' AND bits_g >= " +
                    std::to_string(chosen["bits"].get<int>())),
              "0");
  }

  // The verdicts, read from the store file while the coordinator runs: the
  // PTQ generators against the baseline they started from.
  out = Shell(kBinary + " report --db " + dir_.File("store.db") + " --bound 1.5", &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("em (ptq): "), std::string::npos) << out;
  EXPECT_NE(out.find("from-scratch"), std::string::npos) << out;  // the reference column
  out = Shell(kBinary + " report --db " + dir_.File("nope.db"), &rc);
  EXPECT_EQ(rc, 2) << out;  // a missing store is a usage error, named
}

TEST_F(SearchE2ETest, ALayerAllocationSearchMeasuresItsFrontOnARealBaselineAndReusesItsSensitivities) {
  int rc = 0;
  const nlohmann::json base = TinyJobWithFid(/*iterations=*/12, dir_.File("classifier.pt"));
  ASSERT_FALSE(base.is_null());
  // conv1 (most of the weights) held at 8 bits, the others at 1 or 8: seven
  // sensitivities, a front over eight allocations.
  nlohmann::json strategy = {{"kind", "layer_allocation"},
                             {"methods", {"em"}},
                             {"bits", {1, 8}},
                             {"pinned", {{"conv1", 8}}},
                             {"requirement", {{"metric", "fid"}, {"relative_to_baseline", 1.5}}},
                             {"seeds", {1}},
                             {"confidence", 0},
                             {"ptq_bn_batches", 2},
                             {"distortion_samples", 64},
                             {"spread", 2},
                             {"fine_tune_iterations", 2}};
  const std::string address = StartCoordinator();
  auto w1 = StartWorker(address, 1);
  std::string out =
      Shell(kBinary + " submit --watch --spec " + WriteSweep({{"name", "alloc-e2e"}, {"base", base}, {"strategy", strategy}}) +
                " --coordinator " + address,
            &rc);
  ASSERT_EQ(rc, 0) << out << w1->Log();
  const auto outcome = nlohmann::json::parse(Query("SELECT strategy_outcome FROM sweeps WHERE id = 1"));
  ASSERT_TRUE(outcome["done"].get<bool>()) << outcome.dump();
  const auto& em = outcome["methods"]["em"];
  ASSERT_EQ(em["sensitivities"].size(), 7u) << em.dump();
  for (const auto& sensitivity : em["sensitivities"]) {
    EXPECT_GT(sensitivity["fid"].get<double>(), 0.0);
    EXPECT_TRUE(sensitivity.contains("distortion")) << sensitivity.dump();
  }
  EXPECT_EQ(em["proxy"]["pairs"], 7);
  ASSERT_FALSE(em["front"].empty());
  EXPECT_FALSE(em["measured_front"].empty());

  // Every post-training job quantized the baseline's own checkpoint, with
  // exactly the widths its spec names: the results view says them, and the
  // packed file holds exactly the layers' bytes.
  const std::string baseline = Query("SELECT job FROM results WHERE task = 'qgan' AND method_g = 'none'");
  ASSERT_EQ(Lines(baseline).size(), 1u) << baseline;
  const std::string checkpoint_sha =
      Query("SELECT sha256 FROM artifacts WHERE name = 'checkpoint.pt' AND job_id = " + baseline);
  const auto post_training = Lines(Query("SELECT job FROM results WHERE task = 'ptq' AND state = 'SUCCEEDED'"));
  ASSERT_GE(post_training.size(), 8u);
  for (const auto& job : post_training) {
    const auto result = nlohmann::json::parse(Query("SELECT result_json FROM jobs WHERE id = " + job));
    EXPECT_EQ(result["init_from"]["sha256"], checkpoint_sha);
    auto spec = JobSpec::FromJson(result["spec"]);
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    EXPECT_EQ(Query("SELECT widths_g FROM results WHERE job = " + job), WidthsText(GeneratorWidths(spec.value())));
    EXPECT_EQ(result["model_bytes"]["generator_payload"].get<int64_t>(), PackedPayloadBytes(spec.value()));
  }
  const auto& bound = em["bound"];
  ASSERT_TRUE(bound["status"] == "found" || bound["status"] == "none_meets") << bound.dump();
  if (bound["status"] == "found") {
    EXPECT_EQ(bound["answer"]["verdict"], "meets");
    EXPECT_LE(bound["answer"]["fid"].get<double>(), 1.5 * outcome["reference"]["fid"].get<double>());
    // Re-measured as warm-started QAT from the same baseline.
    EXPECT_TRUE(bound["answer"].contains("qat")) << bound.dump();
    EXPECT_NE(Query("SELECT COUNT(*) FROM results WHERE protocol = 'warm-start'"), "0");
  }
  out = Shell(kBinary + " results --sweep 1 --summary --coordinator " + address, &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("damage model"), std::string::npos) << out;
  EXPECT_NE(out.find("uniform widths on the same axes"), std::string::npos) << out;
  out = Shell(kBinary + " results --sweep 1 --format csv --coordinator " + address, &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(Lines(out).at(0).find("widths_g,mean_bits_g"), std::string::npos) << out;
  // The per-width report counts uniform generators only: here the 8-bit
  // one ("8,8,8,8"); the allocations with 1-bit layers (conv1 stays at 8)
  // are not "1 bit".
  out = Shell(kBinary + " report --db " + dir_.File("store.db") + " --bound 1.5", &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("em (ptq)"), std::string::npos) << out;
  const size_t allocation_part = out.find("layer allocation");
  ASSERT_NE(allocation_part, std::string::npos) << out;
  EXPECT_EQ(out.substr(0, allocation_part).find("1 bit"), std::string::npos) << out;
  // The allocation's own lines name the uniform width with conv1 held at 8.
  if (bound["status"] == "found" && bound.contains("uniform_answer")) {
    EXPECT_NE(out.find("pinned layers held", allocation_part), std::string::npos) << out;
  }

  // Another bound on the same (named) baseline: no sensitivity runs again.
  strategy.erase("seeds");
  strategy["baseline_jobs"] = {std::stoll(baseline)};
  strategy["requirement"]["relative_to_baseline"] = 3.0;
  out = Shell(kBinary + " submit --watch --spec " + WriteSweep({{"name", "alloc-again"}, {"base", base}, {"strategy", strategy}}) +
                  " --coordinator " + address,
              &rc);
  ASSERT_EQ(rc, 0) << out << w1->Log();
  const auto again = nlohmann::json::parse(Query("SELECT strategy_outcome FROM sweeps WHERE id = 2"));
  ASSERT_TRUE(again["done"].get<bool>()) << again.dump();
  for (const auto& sensitivity : again["methods"]["em"]["sensitivities"]) {
    EXPECT_TRUE(sensitivity.value("cached", false)) << sensitivity.dump();
  }
  EXPECT_EQ(Query("SELECT COUNT(*) FROM jobs WHERE sweep_id = 2 AND task = 'qgan' AND method_g = 'none'"), "0");
  EXPECT_GE(again["cached"].get<int>(), 8);
}

}  // namespace
}  // namespace bitsweep
