// Search strategies driven through the scheduler core (real SQLite file,
// hand-moved clock), with simulated worker slots that run the real
// `synthetic` task: its quality is a known function of (method, bits_g,
// bits_d) plus seeded noise, so the right answer of a search can be worked
// out by brute force and compared with what the search found.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <random>
#include <set>

#include "common/job_spec.h"
#include "common/strategy_spec.h"
#include "coordinator/scheduler.h"
#include "tests/test_util.h"
#include "worker/synthetic_task.h"

namespace bitsweep::coordinator {
namespace {

using bitsweep::testing::TempDir;

const std::vector<std::string> kMethods = {"em", "minmax", "log", "tanh"};
const std::vector<int> kBits = {1, 2, 3, 4, 6, 8};

nlohmann::json SyntheticBase() {
  return {{"task", "synthetic"},
          {"synthetic",
           {{"fid_full_precision", 20.0}, {"sensitivity_g", 0.2}, {"sensitivity_d", 0.05}, {"noise", 0.005}}}};
}

nlohmann::json MultiPrecisionSweep(int max_in_flight, const nlohmann::json& requirement = {
                                                          {"metric", "fid"}, {"relative_to_baseline", 1.10}}) {
  return {{"name", "mp"},
          {"base", SyntheticBase()},
          {"strategy",
           {{"kind", "multi_precision"},
            {"methods", kMethods},
            {"bits", kBits},
            {"requirement", requirement},
            {"seeds", {1, 2}},
            // Point estimates: these tests check the bisection against brute
            // force on (nearly) noise-free data; the statistics have their own.
            {"confidence", 0},
            {"max_in_flight", max_in_flight}}}};
}

// The quality the synthetic task reports for one configuration and seed.
double SyntheticMetric(const nlohmann::json& params, const std::string& metric) {
  nlohmann::json j = JobSpec().ToJson();
  j.merge_patch(SyntheticBase());
  j = ApplyParams(j, params);
  auto parsed = JobSpec::FromJson(j);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  auto outcome = worker::RunSyntheticTask(parsed.value(), worker::TaskContext{});
  EXPECT_TRUE(outcome.ok()) << outcome.status().ToString();
  for (const auto& m : outcome->metrics) {
    if (m.metric == metric) return m.value;
  }
  ADD_FAILURE() << "no " << metric;
  return 0.0;
}

nlohmann::json Params(const std::string& mg, int bg, const std::string& md, int bd, int seed) {
  return {{"quant.g.method", mg}, {"quant.g.bits", bg}, {"quant.d.method", md},
          {"quant.d.bits", bd},   {"train.seed", seed}};
}

double MeanOverSeeds(const std::string& mg, int bg, const std::string& md, int bd, const std::string& metric) {
  return 0.5 * (SyntheticMetric(Params(mg, bg, md, bd, 1), metric) + SyntheticMetric(Params(mg, bg, md, bd, 2), metric));
}

// The brute-force answer: for each method, the fewest G bits (D at full
// precision) meeting the bound, then the fewest D bits with G there.
std::map<std::string, std::pair<int, int>> BruteForce(double relative, const std::string& metric, int* grid_jobs) {
  const bool lower = LowerIsBetter(metric);
  const double bound = relative * MeanOverSeeds("none", 32, "none", 32, metric);
  auto meets = [&](double v) { return lower ? v <= bound : v >= bound; };
  std::map<std::string, std::pair<int, int>> answer;
  *grid_jobs = 2;
  for (const auto& m : kMethods) {
    int g = 32, d = 32;
    std::vector<bool> g_meets;
    for (int b : kBits) g_meets.push_back(meets(MeanOverSeeds(m, b, "none", 32, metric)));
    // The search assumes quality monotone in bits; the test data must be.
    EXPECT_TRUE(std::is_sorted(g_meets.begin(), g_meets.end())) << m << ": test data not monotone";
    for (size_t i = 0; i < kBits.size(); ++i) {
      if (g_meets[i]) {
        g = kBits[i];
        break;
      }
    }
    const std::string gm = g == 32 ? "none" : m;
    std::vector<bool> d_meets;
    for (int b : kBits) d_meets.push_back(meets(MeanOverSeeds(gm, g, m, b, metric)));
    EXPECT_TRUE(std::is_sorted(d_meets.begin(), d_meets.end())) << m << ": test data not monotone (D)";
    for (size_t i = 0; i < kBits.size(); ++i) {
      if (d_meets[i]) {
        d = kBits[i];
        break;
      }
    }
    answer[m] = {g, d};
    *grid_jobs += 2 * 2 * static_cast<int>(kBits.size());
  }
  return answer;
}

class StrategyTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  // Opens (or, after a "crash", reopens) the scheduler on the same file.
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

  std::string Register(const std::string& id = "") {
    WorkerRecord w;
    w.id = id;
    w.host = "test";
    auto r = scheduler_->RegisterWorker(w);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r->worker_id;
  }

  // One simulated worker slot: runs the synthetic task of its lease.
  struct Slot {
    std::string worker;
    std::optional<LeaseGrant> lease;
  };

  // Runs the sweep to the end on `slots` slots: idle slots lease, then one
  // running job (chosen by `rng`) finishes. `fail` decides, per lease, an
  // error to report instead of a result. `on_step` runs between steps (and
  // may restart the coordinator). Returns the most jobs ever unfinished.
  int RunToEnd(int64_t sweep, int slots, std::mt19937* rng,
               const std::function<std::string(const nlohmann::json&)>& fail = nullptr,
               const std::function<void()>& on_step = nullptr) {
    std::vector<Slot> pool;
    const std::string w = Register("sim");
    for (int i = 0; i < slots; ++i) pool.push_back({w, std::nullopt});
    int most_unfinished = 0;
    for (int step = 0; step < 10000; ++step) {
      auto view = scheduler_->GetSweep(sweep);
      EXPECT_TRUE(view.ok());
      if (view->sweep.state != SweepState::kRunning) return most_unfinished;
      for (auto& slot : pool) {
        if (slot.lease) continue;
        auto leases = scheduler_->TryLeaseMany(slot.worker, 1);
        EXPECT_TRUE(leases.ok()) << leases.status().ToString();
        if (!leases->empty()) slot.lease = leases->front();
      }
      view = scheduler_->GetSweep(sweep);
      most_unfinished = std::max(most_unfinished, view->counts[JobState::kQueued] + view->counts[JobState::kRunning]);
      std::vector<Slot*> busy;
      for (auto& slot : pool) {
        if (slot.lease) busy.push_back(&slot);
      }
      if (busy.empty()) {
        ADD_FAILURE() << "sweep " << sweep << " is RUNNING but has no job to run";
        return most_unfinished;
      }
      Slot* done = busy[std::uniform_int_distribution<size_t>(0, busy.size() - 1)(*rng)];
      const LeaseGrant lease = *done->lease;
      done->lease.reset();
      auto spec = JobSpec::FromJson(nlohmann::json::parse(lease.spec_json));
      EXPECT_TRUE(spec.ok());
      const std::string error = fail ? fail(nlohmann::json::parse(lease.spec_json)) : "";
      if (!error.empty()) {
        EXPECT_TRUE(scheduler_->Fail(done->worker, lease.job_id, lease.epoch, error, /*retryable=*/false).ok());
      } else {
        auto outcome = worker::RunSyntheticTask(spec.value(), worker::TaskContext{});
        EXPECT_TRUE(outcome.ok());
        CompletionReport report;
        report.job_id = lease.job_id;
        report.epoch = lease.epoch;
        report.result_json = outcome->result_json;
        report.metrics = outcome->metrics;
        report.model_bytes = outcome->model_bytes;
        Status s = scheduler_->Complete(done->worker, report);
        EXPECT_TRUE(s.ok()) << s.ToString();
      }
      if (on_step) on_step();
    }
    ADD_FAILURE() << "the sweep did not finish";
    return most_unfinished;
  }

  nlohmann::json Outcome(int64_t sweep) {
    auto s = store_->GetSweep(sweep);
    EXPECT_TRUE(s.ok());
    return nlohmann::json::parse(s->strategy_outcome);
  }

  std::map<std::string, std::pair<int, int>> Chosen(int64_t sweep) {
    std::map<std::string, std::pair<int, int>> chosen;
    const nlohmann::json outcome = Outcome(sweep);
    for (const auto& [m, r] : outcome["methods"].items()) {
      chosen[m] = {r["g"]["bits"].get<int>(), r["d"]["bits"].get<int>()};
    }
    return chosen;
  }

  int64_t Submit(const nlohmann::json& spec) {
    auto r = scheduler_->SubmitSweep(spec);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->first : 0;
  }

  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Scheduler> scheduler_;
};

TEST_F(StrategyTest, MultiPrecisionFindsTheFewestBitsWithFewerJobsThanTheGrid) {
  int grid_jobs = 0;
  const auto expected = BruteForce(1.10, "fid", &grid_jobs);
  for (int slots : {1, 4}) {
    std::mt19937 rng(slots);
    const int64_t sweep = Submit(MultiPrecisionSweep(/*max_in_flight=*/slots * 2));
    RunToEnd(sweep, slots, &rng);
    EXPECT_EQ(Chosen(sweep), expected) << slots << " slot(s)";
    const int jobs = scheduler_->GetSweep(sweep)->total;
    EXPECT_LT(jobs, grid_jobs);
    EXPECT_EQ(Outcome(sweep)["grid_jobs"], grid_jobs);
    EXPECT_TRUE(Outcome(sweep)["done"].get<bool>());
    std::printf("multi_precision on %d slot(s): %d jobs, grid %d, ratio %.2f\n", slots, jobs, grid_jobs,
                static_cast<double>(jobs) / grid_jobs);
    // Every job finished, none is left behind.
    auto counts = scheduler_->GetSweep(sweep)->counts;
    EXPECT_EQ(counts[JobState::kSucceeded], jobs);
  }
}

TEST_F(StrategyTest, MultiPrecisionKeepsToMaxInFlight) {
  std::mt19937 rng(3);
  const int64_t sweep = Submit(MultiPrecisionSweep(/*max_in_flight=*/3));
  EXPECT_EQ(scheduler_->GetSweep(sweep)->total, 0);  // jobs come when workers ask
  EXPECT_LE(RunToEnd(sweep, /*slots=*/8, &rng), 3);
}

TEST_F(StrategyTest, MultiPrecisionHigherIsBetterMetric) {
  int grid_jobs = 0;
  const auto expected = BruteForce(0.95, "is", &grid_jobs);
  std::mt19937 rng(5);
  const int64_t sweep = Submit(MultiPrecisionSweep(4, {{"metric", "is"}, {"relative_to_baseline", 0.95}}));
  RunToEnd(sweep, 2, &rng);
  EXPECT_EQ(Chosen(sweep), expected);
  EXPECT_EQ(Outcome(sweep)["requirement"], "is >= 0.95 x baseline");
}

TEST_F(StrategyTest, MultiPrecisionSameAnswerWhenTheCoordinatorRestartsAtRandomPoints) {
  int grid_jobs = 0;
  const auto expected = BruteForce(1.10, "fid", &grid_jobs);
  std::mt19937 rng(11);
  const int64_t sweep = Submit(MultiPrecisionSweep(4));
  int restarts = 0;
  std::bernoulli_distribution restart(0.3);
  RunToEnd(sweep, 3, &rng, nullptr, [&] {
    if (!restart(rng)) return;
    // The scheduler and store are dropped and reopened on the same file;
    // running leases survive, and the simulated slots report on them.
    Open();
    ++restarts;
  });
  EXPECT_GT(restarts, 5);
  EXPECT_EQ(Chosen(sweep), expected);
  // No configuration ran twice for a seed: (params) are unique among jobs.
  auto jobs = store_->ListJobs(sweep);
  std::set<std::string> seen;
  for (const auto& j : jobs.value()) EXPECT_TRUE(seen.insert(j.params_json).second) << j.params_json;
  EXPECT_LT(static_cast<int>(jobs->size()), grid_jobs);
}

// ---------------------------------------------------------------- verdicts with their uncertainty

// A search whose runs are noisy (3% log-normal per run, as the synthetic
// task draws it) starting from one seed per configuration.
nlohmann::json NoisySweep(int max_in_flight, double noise, int max_seeds) {
  nlohmann::json sweep = MultiPrecisionSweep(max_in_flight);
  sweep["base"]["synthetic"]["noise"] = noise;
  sweep["strategy"]["seeds"] = {1};
  sweep["strategy"]["confidence"] = 0.9;
  sweep["strategy"]["max_seeds"] = max_seeds;
  return sweep;
}

// The truth the noise hides: value / (1.10 x baseline) of the noise-free
// synthetic quality, by configuration ("g-method-bits/d-method-bits").
double TrueRatioToBound(const nlohmann::json& config) {
  nlohmann::json base = SyntheticBase();
  base["synthetic"]["noise"] = 0.0;
  auto fid = [&](const nlohmann::json& params) {
    nlohmann::json j = JobSpec().ToJson();
    j.merge_patch(base);
    auto spec = JobSpec::FromJson(ApplyParams(j, params));
    EXPECT_TRUE(spec.ok());
    return worker::SyntheticFid(spec.value());
  };
  nlohmann::json params = Params(config["g"][0], config["g"][1], config["d"][0], config["d"][1], 1);
  if (config.value("ptq", false)) params["synthetic.post_training"] = true;
  const double value = fid(params);
  return value / (1.10 * fid(Params("none", 32, "none", 32, 1)));
}

// The noise-free answer: per method, the fewest G bits that truly meet the
// bound, then the fewest D bits with G there (32: none meets).
std::map<std::string, std::pair<int, int>> TrueAnswer() {
  std::map<std::string, std::pair<int, int>> answer;
  for (const auto& m : kMethods) {
    int g = 32, d = 32;
    for (int b : kBits) {
      if (TrueRatioToBound({{"g", {m, b}}, {"d", {"none", 32}}}) <= 1.0) {
        g = b;
        break;
      }
    }
    for (int b : kBits) {
      if (TrueRatioToBound({{"g", {g == 32 ? "none" : m, g}}, {"d", {m, b}}}) <= 1.0) {
        d = b;
        break;
      }
    }
    answer[m] = {g, d};
  }
  return answer;
}

TEST_F(StrategyTest, NoisyRunsGetMoreSeedsUntilDecidedAndNoVerdictContradictsTheTruth) {
  for (int restart_every : {0, 3}) {
    std::mt19937 rng(17 + restart_every);
    const int64_t sweep = Submit(NoisySweep(/*max_in_flight=*/6, /*noise=*/0.03, /*max_seeds=*/6));
    int steps = 0;
    RunToEnd(sweep, 3, &rng, nullptr, [&] {
      if (restart_every > 0 && ++steps % restart_every == 0) Open();
    });
    const auto outcome = Outcome(sweep);
    ASSERT_TRUE(outcome["done"].get<bool>()) << outcome.dump(1);
    EXPECT_EQ(outcome["confidence"], 0.9);
    int more_seeds = 0, decided_far = 0;
    for (const auto& c : outcome["configs"]) {
      const std::string verdict = c["verdict"];
      if (verdict == "baseline" || verdict == "not needed") continue;
      const double truth = TrueRatioToBound(c);
      // The margin of one seed has sd 0.03 x sqrt(2) (run and its paired
      // baseline); 5% from the bound is ~1.2 of them.
      if (verdict == "meets") {
        EXPECT_LE(truth, 1.0) << c.dump();
      }
      if (verdict == "fails") {
        EXPECT_GT(truth, 1.0) << c.dump();
      }
      if (std::fabs(std::log(truth)) > 0.05 && c.value("failure", "").empty()) {
        EXPECT_TRUE(verdict == "meets" || verdict == "fails") << "undecided far from the bound: " << c.dump();
        ++decided_far;
      }
      if (c["jobs"].get<int>() > 1) ++more_seeds;
      if (c.contains("vs_bound")) {
        EXPECT_LE(c["vs_bound"]["low"].get<double>(), c["vs_bound"]["estimate"].get<double>());
        EXPECT_GE(c["vs_bound"]["high"].get<double>(), c["vs_bound"]["estimate"].get<double>());
        EXPECT_LE(c["vs_bound"]["seeds"].get<int>(), 6);
      }
    }
    EXPECT_GT(decided_far, 10);
    EXPECT_GT(more_seeds, 0) << "no configuration needed a second seed";
    int undecided = 0;
    for (const auto& c : outcome["configs"]) undecided += c["verdict"] == "undecided" ? 1 : 0;
    std::printf("noisy multi_precision (restart every %d steps): %d jobs, %d configurations with extra seeds, "
                "%d undecided at max_seeds, seed spread sd %.4f (df %.0f); chosen %s, noise-free answer %s\n",
                restart_every, scheduler_->GetSweep(sweep)->total, more_seeds, undecided,
                outcome["seed_spread"]["sd"].get<double>(), outcome["seed_spread"]["df"].get<double>(),
                nlohmann::json(Chosen(sweep)).dump().c_str(), nlohmann::json(TrueAnswer()).dump().c_str());
    // The chosen widths are never fewer bits than the truth allows: what
    // the search could not tell apart counts as failing.
    for (const auto& [method, r] : outcome["methods"].items()) {
      const int chosen = r["g"]["bits"].get<int>();
      if (chosen != 32) {
        EXPECT_LE(TrueRatioToBound({{"g", {method, chosen}}, {"d", {"none", 32}}}), 1.0) << method << " " << chosen;
      }
    }
    // No configuration ran twice for a seed, restarts or not.
    auto jobs = store_->ListJobs(sweep);
    std::set<std::string> seen;
    for (const auto& j : jobs.value()) EXPECT_TRUE(seen.insert(j.params_json).second) << j.params_json;
  }
}

TEST_F(StrategyTest, WithoutNoiseOneSeedEachDecidesOnceTheSpreadIsKnown) {
  std::mt19937 rng(23);
  const int64_t sweep = Submit(NoisySweep(/*max_in_flight=*/4, /*noise=*/0.0, /*max_seeds=*/4));
  RunToEnd(sweep, 2, &rng);
  EXPECT_EQ(Chosen(sweep), TrueAnswer());
  // A spread needs one configuration with two seeds (and the baseline's
  // pair); the rest decide with one.
  const auto outcome = Outcome(sweep);
  int two_seeds = 0;
  for (const auto& c : outcome["configs"]) two_seeds += c["jobs"].get<int>() > 1 ? 1 : 0;
  EXPECT_GE(two_seeds, 2);
  EXPECT_LE(two_seeds, 3);
  EXPECT_EQ(outcome["seed_spread"]["sd"].get<double>(), 0.0);
}

TEST_F(StrategyTest, AWarmStartedSearchFineTunesEachSeedFromItsOwnBaseline) {
  std::mt19937 rng(29);
  nlohmann::json spec = NoisySweep(/*max_in_flight=*/6, /*noise=*/0.03, /*max_seeds=*/4);
  spec["strategy"]["warm_start"] = true;
  spec["strategy"]["fine_tune_iterations"] = 7;
  const int64_t sweep = Submit(spec);
  RunToEnd(sweep, 3, &rng);
  EXPECT_TRUE(Outcome(sweep)["done"].get<bool>());
  std::map<int64_t, int64_t> baseline_job_of_seed;
  auto jobs = store_->ListJobs(sweep).value();
  for (const auto& j : jobs) {
    const auto params = nlohmann::json::parse(j.params_json);
    if (j.method_g == "none" && j.method_d == "none") {
      EXPECT_EQ(params.value("train.upload_checkpoint", false), true) << j.params_json;
      // The baseline trains as long as the base spec says.
      EXPECT_FALSE(params.contains("train.iterations")) << j.params_json;
      baseline_job_of_seed[j.seed] = j.id;
    }
  }
  int warm = 0;
  for (const auto& j : jobs) {
    if (j.method_g == "none" && j.method_d == "none") continue;
    const auto params = nlohmann::json::parse(j.params_json);
    ASSERT_TRUE(params.contains("train.init_from_job")) << j.params_json;
    const int64_t from = params["train.init_from_job"];
    // Its own seed's baseline, finished before this job was created.
    EXPECT_EQ(from, baseline_job_of_seed.at(j.seed)) << j.params_json;
    EXPECT_LT(from, j.id);
    // Fine-tunes are as short as fine_tune_iterations says.
    EXPECT_EQ(params.value("train.iterations", int64_t{0}), 7) << j.params_json;
    ++warm;
  }
  EXPECT_GT(warm, 5);
}

// ---------------------------------------------------------------- PTQ as a screen before training

// The requirement of the screen tests: away from every exact tie of the
// noise-free synthetic quality.
constexpr double kScreenBound = 1.12;

// The noise-free synthetic quality of a configuration with the PTQ stand-in
// at `ptq_factor` (post-training: G's sensitivity times that factor). (Noise
// would be seeded by the whole spec, and a PTQ job's names the job it
// quantizes, which a brute force cannot know.)
double ScreenMetric(const nlohmann::json& params, double ptq_factor) {
  double sum = 0.0;
  for (int seed : {1, 2}) {
    nlohmann::json j = JobSpec().ToJson();
    j.merge_patch(SyntheticBase());
    j["synthetic"]["noise"] = 0.0;
    j["synthetic"]["ptq_factor"] = ptq_factor;
    nlohmann::json p = params;
    p["train.seed"] = seed;
    auto spec = JobSpec::FromJson(ApplyParams(j, p));
    EXPECT_TRUE(spec.ok()) << spec.status().ToString();
    sum += worker::RunSyntheticTask(spec.value(), worker::TaskContext{})->metrics[0].value;  // fid
  }
  return sum / 2.0;
}

// Brute force for the screened search: per method, the fewest G bits at
// which a trained or a post-training generator meets the bound (each
// monotone in bits), then the fewest trained D bits with G trained there.
// Also counts the trained G widths the brute force runs (every one).
std::map<std::string, std::pair<int, int>> BruteForceWithPtq(double ptq_factor) {
  const double bound = kScreenBound * ScreenMetric(Params("none", 32, "none", 32, 1), ptq_factor);
  std::map<std::string, std::pair<int, int>> answer;
  for (const auto& m : kMethods) {
    std::vector<bool> trained, post;
    for (int b : kBits) {
      trained.push_back(ScreenMetric(Params(m, b, "none", 32, 1), ptq_factor) <= bound);
      nlohmann::json ptq = Params(m, b, "none", 32, 1);
      ptq["synthetic.post_training"] = true;
      post.push_back(ScreenMetric(ptq, ptq_factor) <= bound);
    }
    EXPECT_TRUE(std::is_sorted(trained.begin(), trained.end())) << m;
    EXPECT_TRUE(std::is_sorted(post.begin(), post.end())) << m;
    int g = 32, d = 32;
    for (size_t i = 0; i < kBits.size(); ++i) {
      if (trained[i] || post[i]) {
        g = kBits[i];
        break;
      }
    }
    for (int b : kBits) {
      if (ScreenMetric(Params(g == 32 ? "none" : m, g, m, b, 1), ptq_factor) <= bound) {
        d = b;
        break;
      }
    }
    answer[m] = {g, d};
  }
  return answer;
}

TEST_F(StrategyTest, ThePtqScreenFindsTheBruteForceAnswerAndTrainsNoWidthAPtqGeneratorMeets) {
  // PTQ worse than training (the usual case), and better (so that a PTQ
  // generator is sometimes the answer below every trained one); with and
  // without coordinator restarts.
  for (double ptq_factor : {3.0, 0.5}) {
    for (bool restarts : {false, true}) {
      std::mt19937 rng(ptq_factor > 1 ? 41 : 43);
      nlohmann::json spec = MultiPrecisionSweep(/*max_in_flight=*/4,
                                                {{"metric", "fid"}, {"relative_to_baseline", kScreenBound}});
      spec["base"]["synthetic"]["noise"] = 0.0;
      spec["base"]["synthetic"]["ptq_factor"] = ptq_factor;
      spec["strategy"]["ptq_screen"] = true;
      const int64_t sweep = Submit(spec);
      std::bernoulli_distribution restart(0.3);
      RunToEnd(sweep, 3, &rng, nullptr, [&] {
        if (restarts && restart(rng)) Open();
      });
      const auto outcome = Outcome(sweep);
      ASSERT_TRUE(outcome["done"].get<bool>());
      EXPECT_EQ(Chosen(sweep), BruteForceWithPtq(ptq_factor)) << "ptq_factor " << ptq_factor << outcome.dump(1);

      // Every PTQ job quantizes its own seed's baseline, finished before it.
      std::map<int64_t, int64_t> baseline_of_seed;
      int trained = 0, post_training = 0;
      auto jobs = store_->ListJobs(sweep).value();
      for (const auto& j : jobs) {
        if (j.method_g == "none" && j.method_d == "none") baseline_of_seed[j.seed] = j.id;
      }
      std::set<std::string> seen;
      for (const auto& j : jobs) {
        EXPECT_TRUE(seen.insert(j.params_json).second) << "ran twice: " << j.params_json;
        const auto params = nlohmann::json::parse(j.params_json);
        if (params.value("synthetic.post_training", false)) {
          ++post_training;
          EXPECT_EQ(params.value("train.init_from_job", int64_t{0}), baseline_of_seed.at(j.seed)) << j.params_json;
        } else if (!(j.method_g == "none" && j.method_d == "none")) {
          ++trained;
        }
      }
      EXPECT_EQ(outcome["ptq_jobs"], post_training);
      // The same search without the screen, for the trained jobs it saves.
      nlohmann::json plain = MultiPrecisionSweep(/*max_in_flight=*/4,
                                                 {{"metric", "fid"}, {"relative_to_baseline", kScreenBound}});
      plain["base"]["synthetic"]["noise"] = 0.0;
      const int64_t unscreened = Submit(plain);
      std::mt19937 rng2(7);
      RunToEnd(unscreened, 3, &rng2);
      const int trained_without = scheduler_->GetSweep(unscreened)->total - 2;
      std::printf("ptq screen (ptq_factor %.1f, restarts %d): %d trained + %d PTQ jobs; without the screen %d "
                  "trained; chosen %s\n",
                  ptq_factor, restarts ? 1 : 0, trained, post_training, trained_without,
                  nlohmann::json(Chosen(sweep)).dump().c_str());
      // What the screen saves: no G width at or above the narrowest PTQ
      // width that meets is ever trained.
      for (const auto& [method, r] : outcome["methods"].items()) {
        ASSERT_TRUE(r["g"].contains("by")) << r.dump();
        if (ptq_factor < 1.0) EXPECT_EQ(r["g"]["by"], "ptq") << method;
        int narrowest_ptq = 99;
        for (const auto& c : outcome["configs"]) {
          if (c.value("ptq", false) && c["g"][0] == method && c["verdict"] == "meets") {
            narrowest_ptq = std::min(narrowest_ptq, c["g"][1].get<int>());
          }
        }
        for (const auto& c : outcome["configs"]) {
          if (!c.value("ptq", false) && c["g"][0] == method && c["d"][0] == "none") {
            EXPECT_LT(c["g"][1].get<int>(), narrowest_ptq) << method << ": trained " << c.dump();
          }
        }
      }
    }
  }
}

TEST_F(StrategyTest, ANoisyScreenedSearchNeverContradictsTheTruth) {
  std::mt19937 rng(47);
  nlohmann::json spec = NoisySweep(/*max_in_flight=*/6, /*noise=*/0.03, /*max_seeds=*/6);
  spec["strategy"]["ptq_screen"] = true;
  const int64_t sweep = Submit(spec);
  int steps = 0;
  RunToEnd(sweep, 3, &rng, nullptr, [&] {
    if (++steps % 4 == 0) Open();
  });
  const auto outcome = Outcome(sweep);
  ASSERT_TRUE(outcome["done"].get<bool>());
  ASSERT_TRUE(outcome.contains("ptq_seed_spread"));
  int ptq_verdicts = 0;
  for (const auto& c : outcome["configs"]) {
    const std::string verdict = c["verdict"];
    if (verdict != "meets" && verdict != "fails") continue;
    const double truth = TrueRatioToBound(c);
    if (verdict == "meets") EXPECT_LE(truth, 1.0) << c.dump();
    if (verdict == "fails") EXPECT_GT(truth, 1.0) << c.dump();
    ptq_verdicts += c.value("ptq", false) ? 1 : 0;
  }
  EXPECT_GT(ptq_verdicts, 4);
  // The chosen generator truly meets the bound, whichever way it was made.
  for (const auto& [method, r] : outcome["methods"].items()) {
    const int chosen = r["g"]["bits"].get<int>();
    if (chosen == 32) continue;
    nlohmann::json config = {{"g", {method, chosen}}, {"d", {"none", 32}}, {"ptq", r["g"]["by"] == "ptq"}};
    EXPECT_LE(TrueRatioToBound(config), 1.0) << method << " " << r.dump();
  }
}

TEST_F(StrategyTest, DivergedRunsFailTheRequirementWithTheReason) {
  std::mt19937 rng(7);
  const int64_t sweep = Submit(MultiPrecisionSweep(4));
  // Every 1- and 2-bit generator diverges (a non-retryable failure).
  RunToEnd(sweep, 2, &rng, [](const nlohmann::json& spec) {
    return spec["quant"]["g"]["bits"].get<int>() <= 2 ? std::string("training diverged: non-finite loss at step 7")
                                                     : std::string();
  });
  const auto outcome = Outcome(sweep);
  bool recorded = false;
  for (const auto& c : outcome["configs"]) {
    if (c["g"][1].get<int>() <= 2) {
      EXPECT_EQ(c["verdict"], "fails");
      EXPECT_NE(c.value("failure", "").find("diverged"), std::string::npos) << c.dump();
      recorded = true;
    }
  }
  EXPECT_TRUE(recorded);
  for (const auto& [m, r] : outcome["methods"].items()) EXPECT_GE(r["g"]["bits"].get<int>(), 3) << m;
}

TEST_F(StrategyTest, RandomSearchDrawsReproduciblyWithinTheBound) {
  nlohmann::json spec = {{"name", "r"},
                         {"base", SyntheticBase()},
                         {"strategy",
                          {{"kind", "random"},
                           {"space", {{"quant.g.bits", {1, 2, 4}}, {"train.lr_g", {{"log_uniform", {1e-4, 1e-3}}}}}},
                           {"trials", 12},
                           {"seed", 9},
                           {"max_in_flight", 3}}}};
  std::mt19937 rng(1);
  const int64_t a = Submit(spec);
  EXPECT_LE(RunToEnd(a, 5, &rng), 3);
  const int64_t b = Submit(spec);
  RunToEnd(b, 1, &rng);
  auto jobs_a = store_->ListJobs(a).value();
  auto jobs_b = store_->ListJobs(b).value();
  ASSERT_EQ(jobs_a.size(), 12u);
  ASSERT_EQ(jobs_b.size(), 12u);
  std::set<double> lrs;
  for (size_t i = 0; i < jobs_a.size(); ++i) {
    EXPECT_EQ(jobs_a[i].params_json, jobs_b[i].params_json);  // same seed, same draws
    double lr = nlohmann::json::parse(jobs_a[i].params_json)["train.lr_g"];
    EXPECT_GE(lr, 1e-4);
    EXPECT_LE(lr, 1e-3);
    lrs.insert(lr);
  }
  EXPECT_GT(lrs.size(), 10u);
}

TEST_F(StrategyTest, SuccessiveHalvingContinuesTheBestFromTheirCheckpoints) {
  nlohmann::json spec = {{"name", "sh"},
                         {"base", SyntheticBase()},
                         {"strategy",
                          {{"kind", "successive_halving"},
                           {"axes", {{"quant.g.method", {"em", "minmax", "log", "tanh"}}, {"quant.g.bits", {1, 2}}}},
                           {"metric", "fid"},
                           {"min_iterations", 100},
                           {"max_iterations", 900},
                           {"eta", 3},
                           {"max_in_flight", 4}}}};
  std::mt19937 rng(2);
  const int64_t sweep = Submit(spec);
  RunToEnd(sweep, 3, &rng);
  auto jobs = store_->ListJobs(sweep).value();
  // 8 configurations at 100 iterations, the best 2 at 300, the best at 900.
  std::map<int64_t, std::vector<JobRecord>> by_budget;
  std::map<int64_t, JobRecord> by_id;
  for (const auto& j : jobs) {
    by_id[j.id] = j;
    by_budget[nlohmann::json::parse(j.params_json)["train.iterations"].get<int64_t>()].push_back(j);
  }
  ASSERT_EQ(by_budget[100].size(), 8u);
  ASSERT_EQ(by_budget[300].size(), 2u);
  ASSERT_EQ(by_budget[900].size(), 1u);
  // Continuations resume from the previous rung's job of the same
  // configuration, which uploaded its checkpoint; the last rung keeps none.
  for (int64_t budget : {300, 900}) {
    for (const auto& j : by_budget[budget]) {
      auto params = nlohmann::json::parse(j.params_json);
      const auto& parent = by_id.at(params["train.resume_from_job"].get<int64_t>());
      auto parent_params = nlohmann::json::parse(parent.params_json);
      EXPECT_EQ(parent_params["quant.g.method"], params["quant.g.method"]);
      EXPECT_EQ(parent_params["quant.g.bits"], params["quant.g.bits"]);
      EXPECT_EQ(parent_params["train.iterations"].get<int64_t>() * 3, budget);
      EXPECT_TRUE(parent_params["train.upload_checkpoint"].get<bool>());
      EXPECT_EQ(params["train.upload_checkpoint"].get<bool>(), budget != 900);
    }
  }
  // The two continued at 300 are the two best at 100.
  std::vector<std::pair<double, std::string>> rung0;
  for (const auto& j : by_budget[100]) {
    auto p = nlohmann::json::parse(j.params_json);
    rung0.push_back({SyntheticMetric(p, "fid"), p["quant.g.method"].get<std::string>() +
                                                    std::to_string(p["quant.g.bits"].get<int>())});
  }
  std::sort(rung0.begin(), rung0.end());
  std::set<std::string> continued;
  for (const auto& j : by_budget[300]) {
    auto p = nlohmann::json::parse(j.params_json);
    continued.insert(p["quant.g.method"].get<std::string>() + std::to_string(p["quant.g.bits"].get<int>()));
  }
  EXPECT_EQ(continued, (std::set<std::string>{rung0[0].second, rung0[1].second}));
  EXPECT_EQ(Outcome(sweep)["best"]["iterations"], 900);
}

TEST_F(StrategyTest, InvalidSearchesAreRefusedAtSubmitAndNothingIsStored) {
  auto refuse = [&](nlohmann::json strategy, const std::string& expected) {
    nlohmann::json spec = {{"name", "bad"}, {"base", SyntheticBase()}, {"strategy", strategy}};
    auto r = scheduler_->SubmitSweep(spec);
    ASSERT_FALSE(r.ok()) << strategy.dump();
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(expected), std::string::npos) << r.status().message();
  };
  nlohmann::json mp = MultiPrecisionSweep(2)["strategy"];
  auto with = [&](const std::string& key, const nlohmann::json& value) {
    nlohmann::json s = mp;
    s[key] = value;
    return s;
  };
  refuse(with("methods", {"em", "none"}), "strategy.methods[1]");
  refuse(with("bits", {0, 2}), "strategy.bits[0]");
  refuse(with("bits", {1.5}), "strategy.bits");
  refuse(with("requirement", {{"metric", "fid"}}), "strategy.requirement.relative_to_baseline");
  refuse(with("requirement", {{"metric", "fid"}, {"at_least", 3}}), "strategy.requirement.at_least");
  refuse(with("requirement", {{"metric", "psnr"}, {"at_most", 3}}), "strategy.requirement.metric");
  refuse(with("seeds", nlohmann::json::array()), "strategy.seeds");
  refuse(with("max_in_flight", 0), "strategy.max_in_flight");
  refuse(with("bitz", 1), "strategy.bitz");
  refuse({{"kind", "random"}, {"space", {{"quant.g.bitz", {1}}}}}, "strategy.space.quant.g.bitz");
  refuse({{"kind", "random"}, {"space", {{"quant.g.bits", {1, 12}}}}}, "quant.g.bits");
  refuse({{"kind", "successive_halving"}, {"axes", {{"quant.g.bits", {1}}}}, {"min_iterations", 10},
          {"max_iterations", 5}},
         "strategy.max_iterations");
  // A qgan base that measures no FID cannot be searched on FID.
  nlohmann::json qgan = {{"name", "bad"}, {"base", {{"task", "qgan"}}}, {"strategy", mp}};
  auto r = scheduler_->SubmitSweep(qgan);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("base.eval.metrics"), std::string::npos) << r.status().message();
  EXPECT_TRUE(store_->ListSweeps()->empty());
}

}  // namespace
}  // namespace bitsweep::coordinator

namespace bitsweep::coordinator {
namespace {

TEST_F(StrategyTest, CancellingOneJobOfASearchRunsItAgainAndKeepsTheAnswer) {
  int grid_jobs = 0;
  const auto expected = BruteForce(1.10, "fid", &grid_jobs);
  std::mt19937 rng(4);
  const int64_t sweep = Submit(MultiPrecisionSweep(2));
  const std::string w = Register("canceller");
  auto leases = scheduler_->TryLeaseMany(w, 1);
  ASSERT_TRUE(leases.ok());
  ASSERT_EQ(leases->size(), 1u);
  const std::string params = store_->GetJob(leases->front().job_id)->params_json;
  ASSERT_TRUE(scheduler_->CancelJob(leases->front().job_id).ok());
  RunToEnd(sweep, 2, &rng);
  EXPECT_EQ(Chosen(sweep), expected);
  const auto jobs = store_->ListJobs(sweep).value();
  int runs = 0;
  for (const auto& j : jobs) runs += j.params_json == params && j.state == JobState::kSucceeded;
  EXPECT_EQ(runs, 1) << "the cancelled configuration ran again, once: " << params;
}

TEST_F(StrategyTest, AHigherPrioritySearchGoesBeforeAQueuedGrid) {
  const int64_t grid = Submit({{"name", "grid"},
                               {"base", SyntheticBase()},
                               {"strategy", {{"kind", "grid"}, {"axes", {{"train.seed", {1, 2, 3, 4, 5}}}}}},
                               {"priority", 0}});
  nlohmann::json search = MultiPrecisionSweep(2);
  search["priority"] = 5;
  const int64_t mp = Submit(search);
  const std::string w = Register("w");
  auto lease = scheduler_->TryLeaseMany(w, 1);
  ASSERT_TRUE(lease.ok());
  ASSERT_EQ(lease->size(), 1u);
  EXPECT_EQ(lease->front().sweep_id, mp);
  EXPECT_NE(lease->front().sweep_id, grid);
}

TEST_F(StrategyTest, GridSweepsFromAnOlderStoreAreNotProposedAgain) {
  // A version-2 store (no strategy state) with a grid sweep not started.
  scheduler_.reset();
  store_.reset();
  const std::string path = dir_.File("old.db");
  {
    auto old = Store::OpenAtVersion(path, 2);
    ASSERT_TRUE(old.ok()) << old.status().ToString();
    SweepRecord sweep;
    sweep.id = 1;
    sweep.name = "old";
    sweep.strategy = "grid";
    nlohmann::json spec = {{"name", "old"},
                           {"base", SyntheticBase()},
                           {"strategy", {{"kind", "grid"}, {"axes", {{"train.seed", {1, 2, 3}}}}}}};
    sweep.spec_json = SweepSpec::FromJson(spec)->ToJson().dump();
    std::vector<JobRecord> jobs(3);
    for (int i = 0; i < 3; ++i) {
      jobs[i].id = i + 1;
      jobs[i].sweep_id = 1;
      jobs[i].ordinal = i;
      jobs[i].params_json = nlohmann::json{{"train.seed", i + 1}}.dump();
      jobs[i].task = "synthetic";
      jobs[i].method_g = jobs[i].method_d = "none";
      jobs[i].loss = "bce";
      jobs[i].dataset = "fashion-mnist";
    }
    ASSERT_TRUE((*old)->InTransaction([&] { return (*old)->InsertSweep(&sweep, &jobs); }).ok());
  }
  auto store = Store::Open(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  store_ = std::move(store.value());
  auto scheduler = Scheduler::Create(Scheduler::Options{}, store_.get(), &clock_);
  ASSERT_TRUE(scheduler.ok()) << scheduler.status().ToString();
  scheduler_ = std::move(scheduler.value());
  std::mt19937 rng(1);
  RunToEnd(1, 2, &rng);
  EXPECT_EQ(scheduler_->GetSweep(1)->total, 3);
  EXPECT_EQ(store_->GetSweep(1)->state, SweepState::kDone);
}

}  // namespace
}  // namespace bitsweep::coordinator
