// The layer allocation in plain words (bitsweep report): every number the
// outcome holds for the answer, the uniform width beside it and the next
// cheaper allocation, as multiples of full precision with their intervals.
#include "cli/allocation_summary.h"

#include <gtest/gtest.h>

namespace bitsweep::cli {
namespace {

nlohmann::json Judged(const std::string& widths, int64_t bytes, const std::string& verdict, double estimate,
                      double low, double high) {
  return {{"widths", widths},
          {"bytes", bytes},
          {"verdict", verdict},
          {"fid", 40.0},
          {"fid_se", 1.0},
          {"n", 1},
          {"vs_bound", {{"estimate", estimate}, {"low", low}, {"high", high}, {"seeds", 1}}}};
}

nlohmann::json Outcome() {
  nlohmann::json uniform3 = Judged("3,3,3,3", 142745, "meets", 0.76, 0.725, 0.80);
  uniform3["bits"] = 3;
  uniform3["qat"] = {{"fid", 30.12}, {"fid_se", 0.61}, {"n", 1}, {"vs_bound", 0.605}};
  nlohmann::json answer = Judged("2,2,4,8", 101232, "meets", 0.905, 0.86, 0.95);
  answer["qat"] = {{"fid", 33.5}, {"fid_se", 0.7}, {"n", 1}, {"vs_bound", 0.675}};
  nlohmann::json uniform4 = Judged("4,4,4,4", 190000, "meets", 0.6, 0.57, 0.63);
  uniform4["bits"] = 4;
  nlohmann::json minmax4 = Judged("4,4,4,4", 190000, "fails", 1.2, 1.14, 1.26);
  minmax4["bits"] = 4;
  return {{"requirement", "fid <= 2 x baseline"},
          {"bound_ratio", 2.0},
          {"confidence", 0.95},
          {"seeds", {1}},
          {"sampling_only", true},
          {"methods",
           {{"em",
             {{"front", nlohmann::json::array({answer})},
              {"uniform", {uniform3, uniform4}},
              {"bound",
               {{"status", "found"},
                {"requirement", "fid <= 2 x baseline"},
                {"answer", answer},
                {"uniform_answer", uniform3},
                {"cheaper_neighbour", Judged("2,2,3,8", 97000, "fails", 1.05, 1.005, 1.10)},
                {"saving", 1.0 - 101232.0 / 142745.0}}}}},
            {"minmax",
             {{"front", nlohmann::json::array()},
              {"uniform", {minmax4}},
              {"bound",
               {{"status", "found"},
                {"answer", Judged("3,3,4,8", 150000, "meets", 0.9, 0.8, 0.99)},
                {"cheaper_neighbour", Judged("3,3,3,8", 140000, "undecided", 1.0, 0.9, 1.1)}}}}}}}};
}

TEST(AllocationSummaryTest, TheAnswerBesideTheUniformWidthWithIntervalsAndWhyItIsTheFewestBytes) {
  const std::vector<std::string> lines = AllocationVerdictLines(Outcome());
  const std::vector<std::string> expected = {
      "em: uniform 3 bits meets 2x at 139.4 KiB (1.52x full precision, 1.45-1.60); per layer 2,2,4,8 meets it at "
      "98.9 KiB (1.81x, 1.72-1.90): 29% fewer bytes",
      "    the next cheaper allocation on the front, 2,2,3,8 at 94.7 KiB, fails (2.10x, 2.01-2.20)",
      "    as warm-started QAT: uniform fid 30.1 +- 0.6 (1.21x), per layer fid 33.5 +- 0.7 (1.35x)",
      // No uniform width meets: the widest one tried says why.
      "minmax: no uniform width tried meets 2x (4 bits fails, 2.40x, 2.28-2.52); per layer 3,3,4,8 meets 2x at 146.5 "
      "KiB (1.80x full precision, 1.60-1.98)",
      "    the next cheaper allocation on the front, 3,3,3,8 at 136.7 KiB, is undecided (2.00x, 1.80-2.20)",
      "(one seed: the intervals cover the evaluation's sampling error only, not training noise)",
  };
  EXPECT_EQ(lines, expected);
}

TEST(AllocationSummaryTest, TheReportSaysWhatWasJudgedAndHowSure) {
  const std::string text = AllocationReport(7, "demo-layers", "DONE", Outcome());
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "layer allocation, sweep 7 \"demo-layers\" (fid <= 2 x baseline, each verdict 95% sure, intervals 90%; "
            "post-training quantization, seed 1):");
  EXPECT_NE(text.find("\n  em: uniform 3 bits meets 2x"), std::string::npos) << text;
  EXPECT_EQ(AllocationReport(8, "s", "RUNNING", nlohmann::json()), "layer allocation, sweep 8 \"s\", still running: "
                                                                  "nothing measured yet\n");
  nlohmann::json searching = Outcome();
  searching["methods"]["em"]["bound"] = {{"status", "searching"}};
  searching["methods"].erase("minmax");
  EXPECT_EQ(AllocationVerdictLines(searching)[0], "em: still searching for the fewest bytes that meet 2x");
}

}  // namespace
}  // namespace bitsweep::cli
