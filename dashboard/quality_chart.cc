#include "dashboard/quality_chart.h"

#include <cmath>
#include <map>
#include <optional>
#include <vector>

namespace bitsweep::dashboard {
namespace {

struct Value {
  double value;
  std::optional<double> se;
};

std::optional<Value> MetricOf(const v1::ResultRow& r, const std::string& metric) {
  if (metric == "fid" && r.has_fid()) return Value{r.fid(), r.has_fid_se() ? std::optional(r.fid_se()) : std::nullopt};
  if (metric == "is" && r.has_is()) return Value{r.is(), r.has_is_se() ? std::optional(r.is_se()) : std::nullopt};
  if (metric == "kid" && r.has_kid()) return Value{r.kid(), r.has_kid_se() ? std::optional(r.kid_se()) : std::nullopt};
  return std::nullopt;
}

bool FullPrecision(const std::string& method, int bits) { return method == "none" || bits >= 32; }

// Jobs listed per point (for the tooltip and the link); `n` counts them all.
constexpr size_t kMostJobsListed = 12;

struct Runs {
  std::vector<double> values;
  std::vector<double> ses;  // of runs that estimated one
  nlohmann::json jobs = nlohmann::json::array();
};

}  // namespace

Result<nlohmann::json> QualityChart(const v1::QueryResultsResponse& results, const std::string& metric,
                                    const std::string& side) {
  if (metric != "fid" && metric != "is" && metric != "kid") {
    return Status::InvalidArgument("metric: \"" + metric + "\" is not one of fid, is, kid");
  }
  if (side != "g" && side != "d") return Status::InvalidArgument("side: \"" + side + "\" is not g or d");
  // series label -> bits -> runs
  std::map<std::string, std::map<int, Runs>> series;
  for (const auto& r : results.rows()) {
    if (r.state() != "SUCCEEDED" || !MetricOf(r, metric)) continue;
    const bool g_fp = FullPrecision(r.method_g(), r.bits_g());
    const bool d_fp = FullPrecision(r.method_d(), r.bits_d());
    std::string label;
    int bits;
    if (g_fp && d_fp) {
      label = "full precision";
      bits = 32;
    } else if (side == "g" && d_fp) {
      label = r.method_g();
      bits = r.bits_g();
    } else if (side == "d" && !d_fp) {
      label = "D " + r.method_d() + (g_fp ? "" : ", G " + r.method_g() + "-" + std::to_string(r.bits_g()));
      bits = r.bits_d();
    } else {
      continue;
    }
    if (!r.protocol().empty()) label += " · " + r.protocol();
    Runs& runs = series[label][bits];
    const Value v = *MetricOf(r, metric);
    runs.values.push_back(v.value);
    if (v.se) runs.ses.push_back(*v.se);
    if (runs.jobs.size() < kMostJobsListed) {
      runs.jobs.push_back({{"job", r.job_id()}, {"seed", r.seed()}, {"value", v.value}});
    }
  }

  nlohmann::json out_series = nlohmann::json::array();
  for (const auto& [label, points] : series) {
    nlohmann::json out_points = nlohmann::json::array();
    for (const auto& [bits, runs] : points) {
      const double n = static_cast<double>(runs.values.size());
      double mean = 0;
      for (double v : runs.values) mean += v / n;
      nlohmann::json err = nullptr;
      std::string err_kind;
      if (runs.values.size() >= 2) {
        double ss = 0;
        for (double v : runs.values) ss += (v - mean) * (v - mean);
        err = std::sqrt(ss / (n - 1));
        err_kind = "std over seeds";
      } else if (!runs.ses.empty()) {
        err = runs.ses.front();
        err_kind = "sampling SE, one seed";
      }
      out_points.push_back({{"bits", bits},
                            {"mean", mean},
                            {"err", err},
                            {"err_kind", err_kind},
                            {"n", runs.values.size()},
                            {"jobs", runs.jobs}});
    }
    out_series.push_back({{"label", label}, {"points", std::move(out_points)}});
  }
  return nlohmann::json{{"metric", metric}, {"x", side == "d" ? "bits_d" : "bits_g"}, {"series", std::move(out_series)}};
}

}  // namespace bitsweep::dashboard
