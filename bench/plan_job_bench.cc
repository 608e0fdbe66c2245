// What planning one grid point costs the coordinator (PlanJob: the base job
// spec with the point's values set, validated as a job spec, the point
// recorded as it will run), and its parts. A large grid plans each point as
// the run reaches it, so this is paid once per job while the sweep runs.
//
//   plan_job_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include "common/job_spec.h"
#include "common/sweep_spec.h"

namespace {

using bitsweep::JobSpec;

// The canonical base of a sweep: what the coordinator plans points from.
nlohmann::json CanonicalBase(const nlohmann::json& base) { return JobSpec::FromJson(base).value().ToJson(); }

const nlohmann::json& SyntheticBase() {
  static const nlohmann::json base = CanonicalBase({{"task", "synthetic"}});
  return base;
}

const nlohmann::json& QganBase() {
  static const nlohmann::json base = CanonicalBase({{"task", "qgan"}, {"quant", {{"g", {{"method", "em"}, {"bits", 2}}}}}});
  return base;
}

// The points of the scheduling benchmark's grids (seed x noise) and of a
// bit-width grid.
nlohmann::json SyntheticPoint(int64_t i) { return {{"train.seed", i}, {"synthetic.noise", 0.001 * (i % 7)}}; }
nlohmann::json QganPoint(int64_t i) {
  return {{"quant.g.method", i % 2 ? "em" : "minmax"}, {"quant.g.bits", 1 + i % 8}, {"train.seed", i}};
}

void BM_PlanJob_Synthetic(benchmark::State& state) {
  int64_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(bitsweep::PlanJob(SyntheticBase(), SyntheticPoint(++i)));
}
BENCHMARK(BM_PlanJob_Synthetic);

void BM_PlanJob_Qgan(benchmark::State& state) {
  int64_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(bitsweep::PlanJob(QganBase(), QganPoint(++i)));
}
BENCHMARK(BM_PlanJob_Qgan);

// The parts: copying the base, parsing it as a job spec, writing it back.
void BM_CopyBase(benchmark::State& state) {
  for (auto _ : state) {
    nlohmann::json copy = SyntheticBase();
    benchmark::DoNotOptimize(copy);
  }
}
BENCHMARK(BM_CopyBase);

void BM_ParseSpec(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(JobSpec::FromJson(SyntheticBase()));
}
BENCHMARK(BM_ParseSpec);

void BM_WriteSpec(benchmark::State& state) {
  const JobSpec spec = JobSpec::FromJson(SyntheticBase()).value();
  for (auto _ : state) benchmark::DoNotOptimize(spec.ToJson());
}
BENCHMARK(BM_WriteSpec);

}  // namespace

BENCHMARK_MAIN();
