#include "common/table.h"

#include <gtest/gtest.h>

namespace bitsweep {
namespace {

Table Sample() {
  Table t{{"job", "method_g", "bits_g", "fid", "model_bytes"}, {}};
  auto row = [](int job, const char* method, int bits, std::optional<double> fid, double bytes) {
    return std::vector<Cell>{Cell::Number(job, "%.0f"), Cell::Text(method), Cell::Number(bits, "%.0f"),
                             fid ? Cell::Number(*fid, "%.2f") : Cell::Missing(), Cell::Number(bytes, "%.0f")};
  };
  t.rows = {row(1, "none", 32, 20.0, 4000), row(2, "em", 1, 60.0, 125), row(3, "minmax", 1, 80.0, 125),
            row(4, "em", 2, 38.0, 250), row(5, "minmax", 2, 45.0, 250), row(6, "log", 2, std::nullopt, 250)};
  return t;
}

std::vector<double> Jobs(const Table& t) {
  std::vector<double> ids;
  for (const auto& r : t.rows) ids.push_back(*r[0].number);
  return ids;
}

TEST(TableTest, WhereFiltersNumbersAndText) {
  Table t = Sample();
  ASSERT_TRUE(FilterRows(&t, {"bits_g<=2", "method_g!=minmax"}).ok());
  EXPECT_EQ(Jobs(t), (std::vector<double>{2, 4, 6}));
  Table u = Sample();
  ASSERT_TRUE(FilterRows(&u, {"fid>40"}).ok());  // missing FID never matches a comparison
  EXPECT_EQ(Jobs(u), (std::vector<double>{2, 3, 5}));
  Table v = Sample();
  ASSERT_TRUE(FilterRows(&v, {"method_g=em"}).ok());
  EXPECT_EQ(Jobs(v), (std::vector<double>{2, 4}));
}

TEST(TableTest, WhereErrorsNameTheProblem) {
  Table t = Sample();
  Status unknown = FilterRows(&t, {"bitz<2"});
  EXPECT_EQ(unknown.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.message().find("bitz"), std::string::npos);
  EXPECT_NE(unknown.message().find("bits_g"), std::string::npos);  // lists the columns
  EXPECT_FALSE(FilterRows(&t, {"fid"}).ok());
  EXPECT_FALSE(FilterRows(&t, {"fid=<3"}).ok());
  EXPECT_EQ(t.rows.size(), 6u);
}

TEST(TableTest, SortPutsMissingLastBothWays) {
  Table t = Sample();
  ASSERT_TRUE(SortRows(&t, "fid").ok());
  EXPECT_EQ(Jobs(t), (std::vector<double>{1, 4, 5, 2, 3, 6}));
  ASSERT_TRUE(SortRows(&t, "-fid").ok());
  EXPECT_EQ(Jobs(t), (std::vector<double>{3, 2, 5, 4, 1, 6}));
  EXPECT_FALSE(SortRows(&t, "nope").ok());
}

TEST(TableTest, ParetoFrontKeepsUndominatedRows) {
  auto front = ParetoFront(Sample(), "model_bytes", "fid");
  ASSERT_TRUE(front.ok());
  // 125 B: em (60) beats minmax (80); 250 B: em (38); 4000 B: fp (20).
  EXPECT_EQ(Jobs(front.value()), (std::vector<double>{2, 4, 1}));
}

TEST(TableTest, ParetoFrontTreatsNearlyEqualSizesAsOne) {
  // em-1 is 4 bytes smaller than minmax-1 (its header), but worse: only
  // minmax-1 stands for that size.
  Table t{{"job", "model_bytes", "fid"},
          {{Cell::Number(1, "%.0f"), Cell::Number(51486, "%.0f"), Cell::Number(813.0, "%.1f")},
           {Cell::Number(2, "%.0f"), Cell::Number(51490, "%.0f"), Cell::Number(483.1, "%.1f")},
           {Cell::Number(3, "%.0f"), Cell::Number(97667, "%.0f"), Cell::Number(450.0, "%.1f")}}};
  auto front = ParetoFront(t, "model_bytes", "fid");
  ASSERT_TRUE(front.ok());
  EXPECT_EQ(Jobs(front.value()), (std::vector<double>{2, 3}));
}

TEST(TableTest, CsvAndJsonKeepFullPrecisionAndNulls) {
  Table t{{"name", "fid"}, {{Cell::Text("a,b"), Cell::Number(1.0 / 3.0, "%.2f")}, {Cell::Text("c"), Cell::Missing()}}};
  EXPECT_EQ(FormatCsv(t), "name,fid\n\"a,b\",0.33333333333333331\nc,\n");
  auto json = FormatJson(t);
  EXPECT_DOUBLE_EQ(json[0]["fid"].get<double>(), 1.0 / 3.0);
  EXPECT_TRUE(json[1]["fid"].is_null());
  EXPECT_EQ(FormatAligned(t), "name   fid\na,b   0.33\nc         \n");
}

}  // namespace
}  // namespace bitsweep
