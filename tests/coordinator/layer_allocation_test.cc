// The layer-allocation search: its exact front against brute force, and
// the whole search driven through the scheduler core (real SQLite file,
// hand-moved clock) with simulated worker slots running the real
// `synthetic` task, whose per-layer quality is a known function of the
// widths, so the right answer can be worked out by brute force.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "cli/allocation_summary.h"
#include "common/layer_widths.h"
#include "coordinator/scheduler.h"
#include "coordinator/strategies/allocation_front.h"
#include "tests/test_util.h"
#include "worker/synthetic_task.h"

namespace bitsweep::coordinator {
namespace {

using bitsweep::testing::TempDir;

// ---------------------------------------------------------------- the front itself

std::vector<std::vector<LayerChoice>> RandomChoices(std::mt19937* rng, int layers, int widths, bool ties) {
  std::uniform_int_distribution<int64_t> bytes(1, ties ? 6 : 1000000);
  std::uniform_real_distribution<double> damage(0.0, 2.0);
  std::vector<std::vector<LayerChoice>> choices(static_cast<size_t>(layers));
  for (auto& layer : choices) {
    for (int w = 0; w < widths; ++w) {
      // With ties: few distinct values, so equal sums are common.
      const double d = ties ? std::floor(damage(*rng) * 2) / 2 : damage(*rng);
      layer.push_back(LayerChoice{w + 1, bytes(*rng), d});
    }
  }
  return choices;
}

TEST(AllocationFrontTest, EqualsTheFrontOfEveryAllocation) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const bool ties = trial % 2 == 1;
    const auto choices = RandomChoices(&rng, 2 + trial % 4, 2 + trial % 5, ties);
    const auto front = AllocationFront(choices);
    const auto brute = FrontOf(AllAllocations(choices));
    ASSERT_EQ(front.size(), brute.size()) << "trial " << trial;
    for (size_t i = 0; i < front.size(); ++i) {
      EXPECT_EQ(front[i].bits, brute[i].bits) << "trial " << trial;
      EXPECT_EQ(front[i].bytes, brute[i].bytes);
      EXPECT_EQ(front[i].damage, brute[i].damage);
    }
    // A front: ascending bytes, strictly descending damage, and nothing
    // outside it beats a point on both.
    for (size_t i = 1; i < front.size(); ++i) {
      EXPECT_GE(front[i].bytes, front[i - 1].bytes);
      EXPECT_LT(front[i].damage, front[i - 1].damage);
    }
    for (const auto& a : AllAllocations(choices)) {
      for (const auto& p : front) {
        EXPECT_FALSE(a.bytes <= p.bytes && a.damage <= p.damage && (a.bytes < p.bytes || a.damage < p.damage))
            << "trial " << trial << ": an allocation beats a front point";
      }
    }
  }
}

TEST(AllocationFrontTest, KendallTauRanksAgreementAndIgnoresTies) {
  EXPECT_DOUBLE_EQ(KendallTau({1, 2, 3, 4}, {10, 20, 30, 40}), 1.0);
  EXPECT_DOUBLE_EQ(KendallTau({1, 2, 3, 4}, {40, 30, 20, 10}), -1.0);
  EXPECT_DOUBLE_EQ(KendallTau({1, 2, 3}, {1, 3, 2}), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(KendallTau({1, 1}, {1, 2}), 0.0);
  EXPECT_NEAR(KendallTau({1, 2, 2, 3}, {1, 2, 3, 4}), 5.0 / std::sqrt(5.0 * 6.0), 1e-12);
}

// ---------------------------------------------------------------- the search

const std::vector<int> kWidths = {1, 2, 3, 4, 8};
const std::vector<std::string> kLayers = {"conv1", "conv2", "conv3", "conv4"};

// A generator whose layers differ in sensitivity as the demo's do (the
// third and last layers most sensitive per weight). "product": the damage
// model holds exactly; "sum": damages combine sub-additively in log FID.
nlohmann::json Base(const std::string& damage, const std::vector<double>& sensitivity, double noise) {
  nlohmann::json w = nlohmann::json::object();
  for (size_t l = 0; l < kLayers.size(); ++l) w[kLayers[l]] = sensitivity[l];
  return {{"task", "synthetic"},
          {"model", {{"arch", "dcgan32"}, {"nz", 100}, {"ngf", 32}, {"ndf", 32}}},
          {"synthetic",
           {{"fid_full_precision", 20.0},
            {"sensitivity_g", 1.0},
            {"ptq_factor", 1.0},
            {"layer_sensitivity_g", w},
            {"layer_damage", damage},
            {"noise", noise}}}};
}

const std::vector<double> kSensitivity = {0.05, 0.1, 0.6, 1.5};

nlohmann::json Sweep(const nlohmann::json& base, double bound, const nlohmann::json& extra = nlohmann::json::object()) {
  nlohmann::json strategy = {{"kind", "layer_allocation"},
                             {"methods", {"em"}},
                             {"bits", kWidths},
                             {"requirement", {{"metric", "fid"}, {"relative_to_baseline", bound}}},
                             {"confidence", 0},
                             {"qat", false},
                             {"max_in_flight", 4}};
  strategy.merge_patch(extra);
  return {{"name", "allocation"}, {"base", base}, {"strategy", strategy}};
}

// The true (noise-free) post-training FID of an allocation.
double TrueFid(const nlohmann::json& base, const std::vector<int>& bits) {
  nlohmann::json j = base;
  j["synthetic"]["noise"] = 0.0;
  j["synthetic"]["post_training"] = true;
  nlohmann::json layers = nlohmann::json::object();
  for (size_t l = 0; l < kLayers.size(); ++l) {
    layers[kLayers[l]] = bits[l] == 32 ? nlohmann::json{{"bits", 32}} : nlohmann::json{{"method", "em"}, {"bits", bits[l]}};
  }
  j["quant"]["g"] = {{"method", "none"}, {"layers", layers}};
  auto spec = JobSpec::FromJson(j);
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  return worker::SyntheticFid(spec.value());
}

std::vector<int> Parse(const std::string& widths) {
  std::vector<int> bits;
  size_t at = 0;
  while (at < widths.size()) {
    size_t comma = widths.find(',', at);
    if (comma == std::string::npos) comma = widths.size();
    bits.push_back(std::stoi(widths.substr(at, comma - at)));
    at = comma + 1;
  }
  return bits;
}

// Brute force over every allocation of kWidths: (bytes, true FID) of each.
struct Truth {
  std::vector<Allocation> all;   // damage holds the true FID
  std::vector<Allocation> front;
  int64_t fewest_bytes_meeting = -1;
};

Truth BruteForce(const nlohmann::json& base, double bound) {
  Truth truth;
  const NetworkLayout layout = GeneratorLayout(ShapeOf(JobSpec::FromJson(base).value()));
  const double reference = TrueFid(base, {32, 32, 32, 32});
  std::vector<std::vector<LayerChoice>> choices(kLayers.size());
  for (auto& c : choices) {
    for (int b : kWidths) c.push_back(LayerChoice{b, 0, 0.0});
  }
  for (auto a : AllAllocations(choices)) {
    a.bytes = PackedPayloadBytes(layout, a.bits);
    a.damage = TrueFid(base, a.bits);
    if (a.damage <= bound * reference && (truth.fewest_bytes_meeting < 0 || a.bytes < truth.fewest_bytes_meeting)) {
      truth.fewest_bytes_meeting = a.bytes;
    }
    truth.all.push_back(a);
  }
  truth.front = FrontOf(truth.all);
  return truth;
}

class LayerAllocationTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    scheduler_.reset();
    store_.reset();
    auto store = Store::Open(dir_.File("store.db"));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store.value());
    Scheduler::Options options;
    options.lease_ttl_ms = 10000;
    options.worker_timeout_ms = 30000;
    options.artifacts_dir = dir_.File("artifacts");
    auto scheduler = Scheduler::Create(options, store_.get(), &clock_);
    ASSERT_TRUE(scheduler.ok()) << scheduler.status().ToString();
    scheduler_ = std::move(scheduler.value());
  }

  int64_t Submit(const nlohmann::json& spec) {
    auto r = scheduler_->SubmitSweep(spec);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->first : 0;
  }

  // Runs the sweep to the end on `slots` simulated slots (jobs finish in an
  // order `rng` picks); `on_step` may restart the coordinator.
  void RunToEnd(int64_t sweep, int slots, std::mt19937* rng, const std::function<void()>& on_step = nullptr) {
    WorkerRecord w;
    w.host = "test";
    auto registered = scheduler_->RegisterWorker(w);
    ASSERT_TRUE(registered.ok());
    const std::string worker = registered->worker_id;
    std::vector<std::optional<LeaseGrant>> pool(static_cast<size_t>(slots));
    for (int step = 0; step < 20000; ++step) {
      if (scheduler_->GetSweep(sweep)->sweep.state != SweepState::kRunning) return;
      for (auto& slot : pool) {
        if (slot) continue;
        auto leases = scheduler_->TryLeaseMany(worker, 1);
        ASSERT_TRUE(leases.ok()) << leases.status().ToString();
        if (!leases->empty()) slot = leases->front();
      }
      std::vector<size_t> busy;
      for (size_t i = 0; i < pool.size(); ++i) {
        if (pool[i]) busy.push_back(i);
      }
      if (busy.empty()) {
        ADD_FAILURE() << "sweep " << sweep << " is RUNNING but has no job to run: " << Outcome(sweep).dump();
        return;
      }
      auto& slot = pool[busy[std::uniform_int_distribution<size_t>(0, busy.size() - 1)(*rng)]];
      const LeaseGrant lease = *slot;
      slot.reset();
      auto spec = JobSpec::FromJson(nlohmann::json::parse(lease.spec_json));
      ASSERT_TRUE(spec.ok()) << spec.status().ToString();
      auto outcome = worker::RunSyntheticTask(spec.value(), worker::TaskContext{});
      ASSERT_TRUE(outcome.ok());
      CompletionReport report;
      report.job_id = lease.job_id;
      report.epoch = lease.epoch;
      report.result_json = outcome->result_json;
      report.metrics = outcome->metrics;
      report.model_bytes = outcome->model_bytes;
      Status s = scheduler_->Complete(worker, report);
      ASSERT_TRUE(s.ok()) << s.ToString();
      if (on_step) on_step();
    }
    ADD_FAILURE() << "the sweep did not finish";
  }

  nlohmann::json Outcome(int64_t sweep) {
    auto s = store_->GetSweep(sweep);
    EXPECT_TRUE(s.ok());
    return s->strategy_outcome.empty() ? nlohmann::json() : nlohmann::json::parse(s->strategy_outcome);
  }

  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Scheduler> scheduler_;
};

TEST_F(LayerAllocationTest, WhereTheDamageModelHoldsTheFrontAndTheAnswerAreBruteForces) {
  const nlohmann::json base = Base("product", kSensitivity, 0.0);
  const Truth truth = BruteForce(base, 2.0);
  std::mt19937 rng(1);
  const int64_t sweep = Submit(Sweep(base, 2.0));
  RunToEnd(sweep, 3, &rng);
  const nlohmann::json out = Outcome(sweep);
  ASSERT_TRUE(out["done"].get<bool>()) << out.dump();
  const nlohmann::json& em = out["methods"]["em"];

  // The predicted front is the true front of all 625 allocations.
  ASSERT_EQ(em["front"].size(), truth.front.size()) << em["front"].dump();
  for (size_t i = 0; i < truth.front.size(); ++i) {
    EXPECT_EQ(Parse(em["front"][i]["widths"]), truth.front[i].bits) << i;
    EXPECT_EQ(em["front"][i]["bytes"].get<int64_t>(), truth.front[i].bytes) << i;
    EXPECT_NEAR(em["front"][i]["predicted_fid"].get<double>(), truth.front[i].damage, 1e-9 * truth.front[i].damage);
  }
  // The answer: the fewest bytes of any allocation that meets the bound.
  ASSERT_EQ(em["bound"]["status"], "found") << em["bound"].dump();
  const nlohmann::json& answer = em["bound"]["answer"];
  EXPECT_EQ(answer["bytes"].get<int64_t>(), truth.fewest_bytes_meeting);
  EXPECT_LE(answer["fid"].get<double>(), 2.0 * TrueFid(base, {32, 32, 32, 32}));
  EXPECT_EQ(answer["verdict"], "meets");
  EXPECT_EQ(em["bound"]["cheaper_neighbour"]["verdict"], "fails");
  // ... and fewer than the best uniform width's, on the same axes.
  ASSERT_TRUE(em["bound"].contains("uniform_answer"));
  EXPECT_LT(answer["bytes"].get<int64_t>(), em["bound"]["uniform_answer"]["bytes"].get<int64_t>());
  EXPECT_GT(em["bound"]["saving"].get<double>(), 0.0);
  EXPECT_EQ(em["uniform"].size(), kWidths.size());
  EXPECT_NEAR(em["additivity"]["max_abs_log_error"].get<double>(), 0.0, 1e-9);
  // Sensitivities: every layer at every width, once.
  EXPECT_EQ(em["sensitivities"].size(), kLayers.size() * kWidths.size());
  // The summary says it in words.
  const std::string summary = cli::FormatAllocationSummary(out);
  EXPECT_NE(summary.find("per layer " + answer["widths"].get<std::string>()), std::string::npos) << summary;
  EXPECT_NE(summary.find("fewer bytes than the best uniform width"), std::string::npos) << summary;
  const int jobs = out["jobs"].get<int>();
  EXPECT_EQ(out["brute_force_jobs"], 625);
  EXPECT_LT(jobs, 625 / 10);
  std::printf("layer allocation, exact model: %d jobs (brute force 625), front %zu points, answer %s at %lld bytes "
              "(uniform %d bits: %lld)\n",
              jobs, truth.front.size(), answer["widths"].get<std::string>().c_str(),
              static_cast<long long>(answer["bytes"].get<int64_t>()), em["bound"]["uniform_answer"]["bits"].get<int>(),
              static_cast<long long>(em["bound"]["uniform_answer"]["bytes"].get<int64_t>()));
}

TEST_F(LayerAllocationTest, WithNoiseAndASubAdditiveTruthTheAnswerNeverClaimsABoundItDoesNotMeet) {
  // Three generators, each searched with noisy runs (2% per run) judged at
  // 90% confidence with extra seeds where undecided.
  const std::vector<std::vector<double>> sensitivities = {{0.05, 0.1, 0.6, 1.5}, {0.8, 0.2, 0.1, 0.4},
                                                          {0.3, 0.3, 0.3, 0.3}};
  for (size_t g = 0; g < sensitivities.size(); ++g) {
    SCOPED_TRACE("generator " + std::to_string(g));
    const nlohmann::json base = Base("sum", sensitivities[g], 0.02);
    for (double bound : {1.5, 2.0}) {
      std::mt19937 rng(static_cast<unsigned>(g * 10 + bound * 2));
      const int64_t sweep =
          Submit(Sweep(base, bound, {{"confidence", 0.9}, {"seeds", {1, 2}}, {"max_seeds", 4}}));
      RunToEnd(sweep, 4, &rng);
      const nlohmann::json out = Outcome(sweep);
      ASSERT_TRUE(out["done"].get<bool>()) << out.dump();
      const nlohmann::json& result = out["methods"]["em"]["bound"];
      const Truth truth = BruteForce(base, bound);
      const double reference = TrueFid(base, {32, 32, 32, 32});
      if (result["status"] == "found") {
        const auto bits = Parse(result["answer"]["widths"]);
        EXPECT_LE(TrueFid(base, bits), bound * reference)
            << "claims " << result["answer"]["widths"] << " meets " << bound << "x";
        std::printf("noisy sum-model search, generator %zu, bound %.1fx: answer %lld bytes, brute force %lld "
                    "(regret %+.1f%%), %d jobs of 625\n",
                    g, bound, static_cast<long long>(result["answer"]["bytes"].get<int64_t>()),
                    static_cast<long long>(truth.fewest_bytes_meeting),
                    100.0 * (result["answer"]["bytes"].get<double>() / truth.fewest_bytes_meeting - 1.0),
                    out["jobs"].get<int>());
      } else {
        EXPECT_EQ(result["status"], "none_meets");
      }
      if (result.contains("uniform_answer")) {
        EXPECT_LE(TrueFid(base, Parse(result["uniform_answer"]["widths"])), bound * reference);
      }
    }
  }
}

TEST_F(LayerAllocationTest, SameAnswerWhenTheCoordinatorRestartsAtRandomPoints) {
  const nlohmann::json base = Base("product", kSensitivity, 0.0);
  const Truth truth = BruteForce(base, 2.0);
  std::mt19937 rng(5);
  const int64_t sweep = Submit(Sweep(base, 2.0, {{"qat", true}, {"spread", 4}}));
  int restarts = 0;
  std::bernoulli_distribution restart(0.3);
  RunToEnd(sweep, 3, &rng, [&] {
    if (!restart(rng)) return;
    Open();
    ++restarts;
  });
  EXPECT_GT(restarts, 5);
  const nlohmann::json out = Outcome(sweep);
  ASSERT_TRUE(out["done"].get<bool>());
  const nlohmann::json& bound = out["methods"]["em"]["bound"];
  ASSERT_EQ(bound["status"], "found");
  EXPECT_EQ(bound["answer"]["bytes"].get<int64_t>(), truth.fewest_bytes_meeting);
  // The answers re-measured as warm-started QAT (the synthetic stand-in).
  EXPECT_TRUE(bound["answer"].contains("qat")) << bound.dump();
  EXPECT_TRUE(bound["uniform_answer"].contains("qat"));
  // No job ran twice.
  auto jobs = store_->ListJobs(sweep);
  std::set<std::string> seen;
  for (const auto& j : jobs.value()) EXPECT_TRUE(seen.insert(j.params_json).second) << j.params_json;
}

TEST_F(LayerAllocationTest, AnotherBoundOnTheSameBaselineReusesTheStoredSensitivities) {
  const nlohmann::json base = Base("product", kSensitivity, 0.0);
  std::mt19937 rng(3);
  const int64_t first = Submit(Sweep(base, 2.0));
  RunToEnd(first, 2, &rng);
  const nlohmann::json before = Outcome(first);
  const int first_jobs = before["jobs"].get<int>();

  const int64_t second = Submit(Sweep(base, 1.5));
  RunToEnd(second, 2, &rng);
  const nlohmann::json after = Outcome(second);
  ASSERT_TRUE(after["done"].get<bool>());
  // Every sensitivity came from the store, measured by the first sweep's jobs.
  for (const auto& s : after["methods"]["em"]["sensitivities"]) {
    EXPECT_TRUE(s.value("cached", false)) << s.dump();
  }
  // The same front: the same facts.
  auto widths = [](const nlohmann::json& front) {
    std::vector<std::string> out;
    for (const auto& p : front) out.push_back(p["widths"].get<std::string>() + "@" + p["predicted_fid"].dump());
    return out;
  };
  EXPECT_EQ(widths(after["methods"]["em"]["front"]), widths(before["methods"]["em"]["front"]));
  EXPECT_GE(after["cached"].get<int>(), static_cast<int>(kLayers.size() * kWidths.size()) + 1);
  EXPECT_LT(after["jobs"].get<int>(), first_jobs);
  const Truth truth = BruteForce(base, 1.5);
  EXPECT_EQ(after["methods"]["em"]["bound"]["answer"]["bytes"].get<int64_t>(), truth.fewest_bytes_meeting);
  std::printf("second bound on the same baseline: %d jobs (first: %d), %d measurements from the store\n",
              after["jobs"].get<int>(), first_jobs, after["cached"].get<int>());
}

TEST_F(LayerAllocationTest, NamedCheckpointFilesAreQuantizedAndTheirMeasurementsKeptUnderTheirHash) {
  // A baseline trained outside any store (bitsweep train): the search
  // quantizes the file, trains nothing, and keys what it measures by the
  // file's SHA-256, so a second search on the same bytes reuses it.
  const nlohmann::json base = Base("product", kSensitivity, 0.0);
  const std::string path = "/checkpoints/demo-seed1/checkpoint.pt";
  const std::string sha = std::string(64, 'a');
  auto files = [&](const std::string& sha256) {
    return nlohmann::json{{"baseline_files", {{{"path", path}, {"seed", 1}, {"sha256", sha256}}}}};
  };
  std::mt19937 rng(4);
  nlohmann::json extra = files(sha);
  extra["qat"] = true;
  const int64_t first = Submit(Sweep(base, 2.0, extra));
  RunToEnd(first, 3, &rng);
  const nlohmann::json out = Outcome(first);
  ASSERT_TRUE(out["done"].get<bool>()) << out.dump();
  EXPECT_EQ(out["baselines"], nlohmann::json::parse(R"([{"seed": 1, "status": "succeeded", "file": ")" + path +
                                                    R"(", "sha256": ")" + sha + R"("}])"));
  const Truth truth = BruteForce(base, 2.0);
  const nlohmann::json& bound = out["methods"]["em"]["bound"];
  ASSERT_EQ(bound["status"], "found") << bound.dump();
  EXPECT_EQ(bound["answer"]["bytes"].get<int64_t>(), truth.fewest_bytes_meeting);
  EXPECT_TRUE(bound["answer"].contains("qat")) << bound.dump();
  // Every job starts from the file; none trains a baseline.
  int warm_starts = 0;
  const auto jobs = store_->ListJobs(first);
  ASSERT_TRUE(jobs.ok());
  for (const auto& job : jobs.value()) {
    const auto params = nlohmann::json::parse(job.params_json);
    EXPECT_EQ(params.value("train.init_from_file", ""), path) << job.params_json;
    EXPECT_FALSE(params.contains("train.init_from_job")) << job.params_json;
    warm_starts += !params.value("synthetic.post_training", false);
  }
  EXPECT_GE(warm_starts, 2) << "the answers again as warm-started QAT, from the file";

  // The same bytes again (another bound): every sensitivity from the store.
  const int64_t second = Submit(Sweep(base, 1.5, files(sha)));
  RunToEnd(second, 2, &rng);
  const nlohmann::json again = Outcome(second);
  for (const auto& s : again["methods"]["em"]["sensitivities"]) EXPECT_TRUE(s.value("cached", false)) << s.dump();
  // Other bytes at the same path: nothing from the store.
  const int64_t third = Submit(Sweep(base, 1.5, files(std::string(64, 'b'))));
  RunToEnd(third, 2, &rng);
  for (const auto& s : Outcome(third)["methods"]["em"]["sensitivities"]) {
    EXPECT_FALSE(s.value("cached", false)) << s.dump();
  }

  // The coordinator never reads the file: a spec without its hash is refused.
  nlohmann::json unhashed = Sweep(base, 2.0, files(sha));
  unhashed["strategy"]["baseline_files"][0].erase("sha256");
  auto refused = scheduler_->SubmitSweep(unhashed);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(),
            "strategy.baseline_files[0].sha256: missing (bitsweep submit and bitsweep local compute it from the file)");
}

TEST_F(LayerAllocationTest, WithOneSeedAndNoWayToAnotherTheVerdictsRestOnTheSamplingErrorAndSaySo) {
  // One named baseline (or max_seeds 1): no second seed can ever say how
  // far training noise moves a FID. Without this every verdict would stay
  // undecided and the search could answer nothing; it judges on the
  // evaluation's sampling error alone, as bitsweep report does, and says so.
  const nlohmann::json base = Base("product", kSensitivity, 0.0);
  const Truth truth = BruteForce(base, 2.0);
  std::mt19937 rng(8);
  const int64_t sweep = Submit(Sweep(base, 2.0, {{"confidence", 0.9}, {"seeds", {1}}, {"max_seeds", 1}}));
  RunToEnd(sweep, 2, &rng);
  const nlohmann::json out = Outcome(sweep);
  ASSERT_TRUE(out["done"].get<bool>()) << out.dump();
  EXPECT_EQ(out.value("sampling_only", false), true) << out.dump();
  EXPECT_FALSE(out.contains("seed_spread"));
  const nlohmann::json& bound = out["methods"]["em"]["bound"];
  ASSERT_EQ(bound["status"], "found") << bound.dump();
  EXPECT_EQ(bound["answer"]["bytes"].get<int64_t>(), truth.fewest_bytes_meeting);
  EXPECT_EQ(bound["answer"]["verdict"], "meets");
  EXPECT_TRUE(bound["answer"].contains("vs_bound")) << "an interval, even if only the sampling error's";
  // With room for more seeds the search asks for them instead.
  const int64_t more = Submit(Sweep(base, 2.0, {{"confidence", 0.9}, {"seeds", {1}}, {"max_seeds", 2}}));
  RunToEnd(more, 2, &rng);
  EXPECT_FALSE(Outcome(more).contains("sampling_only"));
}

TEST_F(LayerAllocationTest, ABudgetGetsTheBestMeasuredQualityWithinItAndTheProxyIsReported) {
  nlohmann::json base = Base("sum", kSensitivity, 0.0);
  const NetworkLayout layout = GeneratorLayout(ShapeOf(JobSpec::FromJson(base).value()));
  const int64_t budget = PackedPayloadBytes(layout, {3, 3, 3, 3});
  std::mt19937 rng(9);
  nlohmann::json spec = Sweep(base, 2.0);
  spec["strategy"].erase("requirement");
  spec["strategy"]["budget_bytes"] = budget;
  const int64_t sweep = Submit(spec);
  RunToEnd(sweep, 2, &rng);
  const nlohmann::json out = Outcome(sweep);
  ASSERT_TRUE(out["done"].get<bool>()) << out.dump();
  const nlohmann::json& em = out["methods"]["em"];
  ASSERT_EQ(em["budget"]["status"], "found");
  const nlohmann::json& answer = em["budget"]["answer"];
  EXPECT_LE(answer["bytes"].get<int64_t>(), budget);
  // No measured generator within the budget is better, uniform 3 bits
  // included.
  for (const auto& list : {em["uniform"], em["front"]}) {
    for (const auto& c : list) {
      if (c.contains("fid") && c["bytes"].get<int64_t>() <= budget) {
        EXPECT_LE(answer["fid"].get<double>(), c["fid"].get<double>()) << c.dump();
      }
    }
  }
  EXPECT_LT(answer["fid"].get<double>(), em["uniform"][2]["fid"].get<double>());
  // The proxy ranks the sensitivities nearly as the FID does.
  EXPECT_EQ(em["proxy"]["pairs"], 20);
  EXPECT_GT(em["proxy"]["kendall_tau"].get<double>(), 0.5);
}

TEST_F(LayerAllocationTest, PinnedLayersKeepTheirWidthEverywhere) {
  const nlohmann::json base = Base("product", kSensitivity, 0.0);
  std::mt19937 rng(2);
  const int64_t sweep = Submit(Sweep(base, 2.0, {{"pinned", {{"conv4", 8}}}, {"layer_bits", {{"conv1", {2, 4}}}}}));
  RunToEnd(sweep, 2, &rng);
  const nlohmann::json out = Outcome(sweep);
  ASSERT_TRUE(out["done"].get<bool>());
  for (const auto& list : {out["methods"]["em"]["front"], out["methods"]["em"]["uniform"]}) {
    for (const auto& c : list) {
      const auto bits = Parse(c["widths"]);
      EXPECT_EQ(bits[3], 8) << c.dump();
    }
  }
  for (const auto& c : out["methods"]["em"]["front"]) {
    const int conv1 = Parse(c["widths"])[0];
    EXPECT_TRUE(conv1 == 2 || conv1 == 4) << c.dump();
  }
  EXPECT_EQ(out["brute_force_jobs"], 2 * 5 * 5 * 1);
}

TEST_F(LayerAllocationTest, BadSearchesAreRefusedAtSubmitNamingTheField) {
  const nlohmann::json base = Base("product", kSensitivity, 0.0);
  auto refused = [&](const nlohmann::json& spec) {
    auto r = scheduler_->SubmitSweep(spec);
    EXPECT_FALSE(r.ok()) << spec.dump();
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_EQ(refused(Sweep(base, 2.0, {{"pinned", {{"conv9", 8}}}})),
            "strategy.pinned.conv9: not a layer of the dcgan32 generator (its layers: conv1, conv2, conv3, conv4)");
  EXPECT_EQ(refused(Sweep(base, 2.0, {{"bits", {2, 12}}})),
            "strategy.bits: widths are 1..8 or 32 (full precision), got 12");
  EXPECT_EQ(refused(Sweep(base, 2.0, {{"layer_bits", {{"conv2", {0}}}}})),
            "strategy.layer_bits.conv2[0]: 0 is not a number in 1..32");
  EXPECT_EQ(refused(Sweep(base, 2.0, {{"requirement", {{"metric", "is"}, {"relative_to_baseline", 0.9}}}})),
            "strategy.requirement.metric: the layer allocation predicts FID (its damage model is on log FID): use fid");
  nlohmann::json no_goal = Sweep(base, 2.0);
  no_goal["strategy"].erase("requirement");
  EXPECT_EQ(refused(no_goal),
            "strategy.requirement: give a quality bound (requirement), a byte budget (budget_bytes), or both");
  nlohmann::json layered = Sweep(base, 2.0);
  layered["base"]["quant"]["g"] = {{"method", "em"}, {"bits", 2}, {"layers", {{"conv1", {{"bits", 8}}}}}};
  EXPECT_EQ(refused(layered),
            "base.quant: the search sets every layer's width: give fixed widths as strategy.pinned, not "
            "quant.*.layers");
  EXPECT_EQ(refused(Sweep(base, 2.0, {{"baseline_jobs", {99}}})),
            "strategy.baseline_jobs[0]: job 99 does not exist");
  // Per-layer widths in any sweep's jobs are checked at submit too.
  nlohmann::json grid = {{"name", "g"},
                         {"base", {{"task", "synthetic"}, {"quant", {{"g", {{"method", "em"}, {"bits", 2}}}}}}},
                         {"strategy", {{"kind", "grid"}, {"axes", {{"quant.g.layers", {{{"conv3", {{"bits", 4}}}},
                                                                                          {{"conv3", {{"bits", 9}}}}}}}}}}};
  EXPECT_EQ(refused(grid), "strategy.axes: point {quant.g.layers={\"conv3\":{\"bits\":9}}}: quant.g.layers.conv3.bits: 9 "
                           "is outside 1..8 or 32");
  grid["strategy"]["axes"] = {{"quant.g.layers.conv7.bits", {4}}};
  EXPECT_EQ(refused(grid), "strategy.axes: point {quant.g.layers.conv7.bits=4}: quant.g.layers.conv7: not a layer of the "
                           "dcgan32 generator (its layers: conv1, conv2, conv3, conv4)");
  grid["base"]["quant"]["g"]["layers"] = {{"conv9", {{"bits", 4}}}};
  EXPECT_EQ(refused(grid),
            "base: quant.g.layers.conv9: not a layer of the dcgan32 generator (its layers: conv1, conv2, conv3, conv4)");
  EXPECT_EQ(refused(Sweep(base, 2.0, {{"methods", {"binary"}}})),
            "strategy.methods[0]: \"binary\" is not a method with a choice of widths (minmax, log, tanh, em)");
}

}  // namespace
}  // namespace bitsweep::coordinator
