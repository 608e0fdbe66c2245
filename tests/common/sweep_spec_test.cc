#include "common/sweep_spec.h"

#include <gtest/gtest.h>

#include "common/job_spec.h"
#include "tests/test_util.h"

namespace bitsweep {
namespace {

nlohmann::json GridSweep(nlohmann::json axes) {
  return {{"name", "grid"},
          {"base", {{"task", "synthetic"}, {"quant", {{"g", {{"method", "em"}, {"bits", 2}}}}}}},
          {"strategy", {{"kind", "grid"}, {"axes", std::move(axes)}}}};
}

TEST(SweepSpecTest, GridIsTheCartesianProductInOrder) {
  auto sweep = SweepSpec::FromJson(GridSweep({{"quant.g.bits", {1, 2, 4}}, {"train.seed", {1, 2}}}));
  ASSERT_TRUE(sweep.ok()) << sweep.status().ToString();
  auto jobs = ExpandGrid(sweep.value());
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_EQ(jobs->size(), 6u);
  // The first axis varies slowest.
  EXPECT_EQ((*jobs)[0].params, (nlohmann::json{{"quant.g.bits", 1}, {"train.seed", 1}}));
  EXPECT_EQ((*jobs)[1].params, (nlohmann::json{{"quant.g.bits", 1}, {"train.seed", 2}}));
  EXPECT_EQ((*jobs)[5].params, (nlohmann::json{{"quant.g.bits", 4}, {"train.seed", 2}}));
  // Each job is a complete, valid spec with the point applied.
  auto spec = JobSpec::FromJson((*jobs)[5].spec);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->quant_g.bits, 4);
  EXPECT_EQ(spec->train.seed, 2u);
  EXPECT_EQ(spec->task, "synthetic");
}

TEST(SweepSpecTest, FullPrecisionPointsCollapseToOneJobAt32Bits) {
  auto sweep = SweepSpec::FromJson(GridSweep({{"quant.g.method", {"none", "em"}}, {"quant.g.bits", {1, 2}}}));
  ASSERT_TRUE(sweep.ok()) << sweep.status().ToString();
  auto jobs = ExpandGrid(sweep.value());
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_EQ(jobs->size(), 3u);  // none@32, em@1, em@2
  EXPECT_EQ((*jobs)[0].params["quant.g.bits"], 32);
  EXPECT_EQ((*jobs)[0].params["quant.g.method"], "none");
  EXPECT_EQ((*jobs)[1].params["quant.g.bits"], 1);
}

TEST(SweepSpecTest, ObjectValuesMergeIntoTheField) {
  auto sweep = SweepSpec::FromJson(GridSweep({{"quant.g", {{{"method", "minmax"}, {"bits", 3}}}}}));
  ASSERT_TRUE(sweep.ok()) << sweep.status().ToString();
  auto jobs = ExpandGrid(sweep.value());
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].spec["quant"]["g"]["method"], "minmax");
  EXPECT_EQ((*jobs)[0].spec["quant"]["g"]["bits"], 3);
  // ApplyParams reproduces the job spec from base + params (what a lease sends).
  EXPECT_EQ(ApplyParams(sweep->base, (*jobs)[0].params), (*jobs)[0].spec);
}

TEST(SweepSpecTest, ErrorsNameTheField) {
  auto unknown_axis = SweepSpec::FromJson(GridSweep({{"quant.g.bitz", {1}}}));
  ASSERT_FALSE(unknown_axis.ok());
  EXPECT_EQ(unknown_axis.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown_axis.status().message().find("strategy.axes.quant.g.bitz"), std::string::npos)
      << unknown_axis.status().message();

  auto empty_axis = SweepSpec::FromJson(GridSweep({{"train.seed", nlohmann::json::array()}}));
  ASSERT_FALSE(empty_axis.ok());
  EXPECT_NE(empty_axis.status().message().find("non-empty list"), std::string::npos);

  auto bad_point = SweepSpec::FromJson(GridSweep({{"quant.g.bits", {2, 9}}}));
  ASSERT_TRUE(bad_point.ok());
  auto jobs = ExpandGrid(bad_point.value());
  ASSERT_FALSE(jobs.ok());
  EXPECT_NE(jobs.status().message().find("quant.g.bits=9"), std::string::npos) << jobs.status().message();
  EXPECT_NE(jobs.status().message().find("outside 1..8"), std::string::npos) << jobs.status().message();

  nlohmann::json no_name = GridSweep({{"train.seed", {1}}});
  no_name.erase("name");
  auto missing = SweepSpec::FromJson(no_name);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("name"), std::string::npos);

  nlohmann::json bad_base = GridSweep({{"train.seed", {1}}});
  bad_base["base"]["quant"]["g"]["bits"] = 0;
  auto base = SweepSpec::FromJson(bad_base);
  ASSERT_FALSE(base.ok());
  EXPECT_NE(base.status().message().find("base: quant.g.bits"), std::string::npos) << base.status().message();

  nlohmann::json typo = GridSweep({{"train.seed", {1}}});
  typo["max_attempt"] = 2;
  auto unknown = SweepSpec::FromJson(typo);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("max_attempt"), std::string::npos);
}

TEST(SweepSpecTest, CanonicalFormRoundTrips) {
  auto sweep = SweepSpec::FromJson(GridSweep({{"train.seed", {1, 2}}}));
  ASSERT_TRUE(sweep.ok());
  auto again = SweepSpec::FromJson(sweep->ToJson());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->ToJson(), sweep->ToJson());
}

TEST(SweepSpecTest, AGridMayVaryOneLayersWidth) {
  auto sweep = SweepSpec::FromJson(
      {{"name", "layer grid"},
       {"base", {{"task", "synthetic"}, {"quant", {{"g", {{"method", "em"}, {"bits", 2}}}}}}},
       {"strategy", {{"kind", "grid"}, {"axes", {{"quant.g.layers.conv4.bits", {2, 4, 8}}}}}}});
  ASSERT_TRUE(sweep.ok()) << sweep.status().ToString();
  auto plans = ExpandGrid(sweep.value());
  ASSERT_TRUE(plans.ok()) << plans.status().ToString();
  ASSERT_EQ(plans->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const auto spec = JobSpec::FromJson((*plans)[i].spec);
    ASSERT_TRUE(spec.ok());
    EXPECT_EQ(spec->quant_g.layers.at("conv4").bits, std::vector<int>({2, 4, 8})[i]);
    // A lease rebuilds the same spec from base and params.
    EXPECT_EQ(JobSpec::FromJson(ApplyParams(sweep->base, (*plans)[i].params))->ToJson(), spec->ToJson());
  }
  EXPECT_FALSE(IsFieldOf(sweep->base, "quant.g.layerz"));
  EXPECT_FALSE(IsFieldOf(sweep->base, "quant.g.layers.conv4.bitz"));
}

TEST(SweepSpecTest, SearchStrategiesRoundTripWithDefaultsFilledIn) {
  const nlohmann::json base = {{"task", "synthetic"}};
  for (const nlohmann::json& strategy : {
           nlohmann::json{{"kind", "multi_precision"},
                          {"methods", {"em", "tanh"}},
                          {"bits", {4, 1, 2, 2}},
                          {"requirement", {{"metric", "is"}, {"at_least", 7.5}}}},
           nlohmann::json{{"kind", "random"},
                          {"space", {{"quant.g.bits", {1, 2}}, {"train.lr_g", {{"log_uniform", {1e-4, 1e-3}}}}}},
                          {"trials", 5}},
           nlohmann::json{{"kind", "successive_halving"},
                          {"space", {{"model.ngf", {{"int_uniform", {16, 64}}}}}},
                          {"configurations", 9},
                          {"min_iterations", 50},
                          {"max_iterations", 400},
                          {"eta", 2}},
           nlohmann::json{{"kind", "layer_allocation"},
                          {"methods", {"em", "minmax"}},
                          {"bits", {8, 1, 2, 2}},
                          {"pinned", {{"conv4", 32}}},
                          {"layer_bits", {{"conv1", {4, 8}}}},
                          {"requirement", {{"metric", "fid"}, {"relative_to_baseline", 2.0}}},
                          {"seeds", {1, 2}}},
           nlohmann::json{{"kind", "layer_allocation"},
                          {"methods", {"em"}},
                          {"bits", {1, 2}},
                          {"budget_bytes", 100000},
                          {"baseline_jobs", {3, 4}}},
           nlohmann::json{{"kind", "layer_allocation"},
                          {"methods", {"em"}},
                          {"bits", {1, 2}},
                          {"budget_bytes", 100000},
                          {"baseline_files", {{{"path", "/b/seed2.pt"}, {"seed", 2}, {"sha256", std::string(64, 'c')}},
                                              {{"path", "/b/seed5.pt"}, {"seed", 5}}}}},
       }) {
    auto sweep = SweepSpec::FromJson({{"name", "s"}, {"base", base}, {"strategy", strategy}});
    ASSERT_TRUE(sweep.ok()) << sweep.status().ToString();
    auto again = SweepSpec::FromJson(sweep->ToJson());
    ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << sweep->ToJson().dump();
    EXPECT_EQ(again->ToJson(), sweep->ToJson());
  }
  auto mp = SweepSpec::FromJson({{"name", "s"},
                                 {"base", base},
                                 {"strategy",
                                  {{"kind", "multi_precision"},
                                   {"methods", {"em"}},
                                   {"bits", {4, 1, 2, 2}},
                                   {"requirement", {{"metric", "fid"}, {"relative_to_baseline", 1.1}}}}}});
  ASSERT_TRUE(mp.ok());
  EXPECT_EQ(mp->multi_precision.bits, (std::vector<int>{1, 2, 4}));  // sorted, once each
  EXPECT_EQ(mp->multi_precision.seeds, (std::vector<uint64_t>{1}));
  EXPECT_EQ(mp->multi_precision.requirement.Describe(), "fid <= 1.1 x baseline");
  EXPECT_TRUE(mp->multi_precision.requirement.Meets(22.0, 22.0));
  EXPECT_FALSE(mp->multi_precision.requirement.Meets(22.1, 22.0));
  auto sh = SweepSpec::FromJson({{"name", "s"},
                                 {"base", base},
                                 {"strategy",
                                  {{"kind", "successive_halving"},
                                   {"axes", {{"quant.g.bits", {1, 2}}}},
                                   {"min_iterations", 100},
                                   {"max_iterations", 1000},
                                   {"eta", 3}}}});
  ASSERT_TRUE(sh.ok());
  EXPECT_EQ(sh->successive_halving.Budgets(), (std::vector<int64_t>{100, 300, 900, 1000}));
}

TEST(SweepSpecTest, LayerAllocationBaselineFilesNameTheirSeedsAndResolveAgainstTheSweepFile) {
  const nlohmann::json base = {{"task", "synthetic"}};
  auto sweep = [&](nlohmann::json extra) {
    nlohmann::json strategy = {{"kind", "layer_allocation"}, {"methods", {"em"}}, {"bits", {1, 2}},
                               {"budget_bytes", 100000}};
    strategy.merge_patch(extra);
    return nlohmann::json{{"name", "s"}, {"base", base}, {"strategy", strategy}};
  };
  auto ok = SweepSpec::FromJson(
      sweep({{"baseline_files", {{{"path", "runs/b1.pt"}, {"seed", 1}}, {{"path", "/abs/b4.pt"}, {"seed", 4}}}}}),
      "/sweeps");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  const auto& files = ok->layer_allocation.baseline_files;
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].path, "/sweeps/runs/b1.pt");
  EXPECT_EQ(files[1].path, "/abs/b4.pt");
  EXPECT_EQ(ok->layer_allocation.seeds, (std::vector<uint64_t>{1, 4}));
  EXPECT_EQ(ok->layer_allocation.max_seeds, 2) << "no more seeds than named baselines";
  EXPECT_FALSE(ok->ToJson()["strategy"].contains("seeds"));

  auto refused = [&](nlohmann::json extra) {
    auto r = SweepSpec::FromJson(sweep(std::move(extra)));
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string() : r.status().message();
  };
  const nlohmann::json one = {{{"path", "/b.pt"}, {"seed", 1}}};
  EXPECT_EQ(refused({{"baseline_files", {{{"path", "/b.pt"}}}}}),
            "strategy.baseline_files[0].seed: missing (required: the seed its jobs run with)");
  EXPECT_EQ(refused({{"baseline_files", {{{"path", "/a.pt"}, {"seed", 1}}, {{"path", "/b.pt"}, {"seed", 1}}}}}),
            "strategy.baseline_files[1].seed: another baseline file has seed 1 (one baseline per seed)");
  EXPECT_EQ(refused({{"baseline_files", {{{"path", "/b.pt"}, {"seed", 1}, {"sha256", "abc"}}}}}),
            "strategy.baseline_files[0].sha256: expected 64 lower-case hex digits (the SHA-256 of the file)");
  EXPECT_EQ(refused({{"baseline_files", one}, {"seeds", {1}}}),
            "strategy.seeds: not with baseline_files (each file names its seed)");
  EXPECT_EQ(refused({{"baseline_files", one}, {"baseline_jobs", {3}}}),
            "strategy.baseline_files: not with baseline_jobs (name the baselines one way)");
  EXPECT_EQ(refused({{"baseline_files", one}, {"max_seeds", 3}}),
            "strategy.max_seeds: more seeds than baseline_files need baselines the search would train; name more "
            "files");
  EXPECT_EQ(refused({{"baseline_files", "/b.pt"}}), "strategy.baseline_files: expected a list of objects, got \"/b.pt\"");
  EXPECT_EQ(refused({{"baseline_files", {{{"path", "/b.pt"}, {"seed", 1}, {"sha", "x"}}}}}).rfind(
                "strategy.baseline_files[0].sha: unknown field", 0),
            0u);
}

TEST(SweepSpecTest, FineTuneIterationsNeedAWarmStart) {
  const nlohmann::json base = {{"task", "synthetic"}};
  nlohmann::json strategy = {{"kind", "multi_precision"},
                             {"methods", {"em"}},
                             {"bits", {1, 2}},
                             {"requirement", {{"metric", "fid"}, {"relative_to_baseline", 1.1}}},
                             {"fine_tune_iterations", 300}};
  auto cold = SweepSpec::FromJson({{"name", "s"}, {"base", base}, {"strategy", strategy}});
  ASSERT_FALSE(cold.ok());
  EXPECT_NE(cold.status().message().find("fine_tune_iterations: needs \"warm_start\": true"), std::string::npos)
      << cold.status().message();
  strategy["warm_start"] = true;
  auto warm = SweepSpec::FromJson({{"name", "s"}, {"base", base}, {"strategy", strategy}});
  ASSERT_TRUE(warm.ok()) << warm.status().ToString();
  EXPECT_EQ(warm->multi_precision.fine_tune_iterations, 300);
  EXPECT_EQ(SweepSpec::FromJson(warm->ToJson())->ToJson(), warm->ToJson());
  strategy["fine_tune_iterations"] = 0;
  EXPECT_FALSE(SweepSpec::FromJson({{"name", "s"}, {"base", base}, {"strategy", strategy}}).ok());
}

TEST(SweepSpecTest, SetOverridesFieldsOfTheFileBeforeValidation) {
  testing::TempDir dir;
  testing::WriteFile(dir.File("sweep.json"), GridSweep({{"quant.g.bits", {1, 2}}}).dump());
  auto sweep = SweepSpec::FromFile(dir.File("sweep.json"),
                                   {"base.train.seed=7", "name=renamed", "strategy.axes={\"quant.g.bits\": [4]}",
                                    "base.dataset.root=relative/folder"});
  ASSERT_TRUE(sweep.ok()) << sweep.status().ToString();
  EXPECT_EQ(sweep->name, "renamed");
  EXPECT_EQ(sweep->base["train"]["seed"], 7);  // a number, parsed as JSON
  ASSERT_EQ(sweep->axes.size(), 1u);
  EXPECT_EQ(sweep->axes[0].values, std::vector<nlohmann::json>{4});
  // A bare word is a string, and a relative path resolves against the
  // sweep file's folder like any path in it.
  EXPECT_EQ(sweep->base["dataset"]["root"], dir.File("relative/folder"));

  auto malformed = SweepSpec::FromFile(dir.File("sweep.json"), {"base.train.seed"});
  ASSERT_FALSE(malformed.ok());
  EXPECT_NE(malformed.status().message().find("--set base.train.seed: expected FIELD=VALUE"), std::string::npos);
  // A field the spec does not have is refused by the spec's own validation.
  auto unknown = SweepSpec::FromFile(dir.File("sweep.json"), {"base.train.sed=3"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("sed"), std::string::npos) << unknown.status().message();
}

TEST(SweepSpecTest, SyntheticSectionOnlyWithSyntheticTask) {
  nlohmann::json job = {{"task", "qgan"}, {"synthetic", {{"seconds", 1}}}};
  auto spec = JobSpec::FromJson(job);
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.status().message().find("synthetic"), std::string::npos);
  auto synthetic = JobSpec::FromJson({{"task", "synthetic"}, {"synthetic", {{"failure_rate", 2}}}});
  ASSERT_FALSE(synthetic.ok());
  EXPECT_NE(synthetic.status().message().find("synthetic.failure_rate"), std::string::npos);
}

}  // namespace
}  // namespace bitsweep
