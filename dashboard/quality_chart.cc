#include "dashboard/quality_chart.h"

#include <cmath>
#include <map>
#include <optional>
#include <tuple>
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

Result<nlohmann::json> QualityChart(const v1::QueryResultsResponse& results, const std::string& metric) {
  if (metric != "fid" && metric != "is" && metric != "kid") {
    return Status::InvalidArgument("metric: \"" + metric + "\" is not one of fid, is, kid");
  }
  std::vector<const v1::ResultRow*> rows;
  for (const auto& r : results.rows()) {
    if (r.state() == "SUCCEEDED" && MetricOf(r, metric)) rows.push_back(&r);
  }
  // D is the varying side when no row quantizes G while D is quantized too
  // and some row quantizes D.
  bool any_d = false, g_with_d = false;
  for (const auto* r : rows) {
    const bool d_quantized = !FullPrecision(r->method_d(), r->bits_d());
    any_d |= d_quantized;
    g_with_d |= d_quantized && !FullPrecision(r->method_g(), r->bits_g());
  }
  const bool x_is_d = any_d && !g_with_d;

  // series label -> bits -> runs
  std::map<std::string, std::map<int, Runs>> series;
  for (const auto* r : rows) {
    const bool fp = FullPrecision(r->method_g(), r->bits_g()) && FullPrecision(r->method_d(), r->bits_d());
    std::string label;
    int bits;
    if (fp) {
      label = "full precision";
      bits = 32;
    } else if (x_is_d) {
      label = r->method_d() + " (D)";
      bits = r->bits_d();
    } else {
      label = r->method_g();
      if (!FullPrecision(r->method_d(), r->bits_d())) label += ", D " + r->method_d() + "-" + std::to_string(r->bits_d());
      bits = r->bits_g();
    }
    if (!r->protocol().empty()) label += " · " + r->protocol();
    Runs& runs = series[label][bits];
    const Value v = *MetricOf(*r, metric);
    runs.values.push_back(v.value);
    if (v.se) runs.ses.push_back(*v.se);
    if (runs.jobs.size() < kMostJobsListed) {
      runs.jobs.push_back({{"job", r->job_id()}, {"seed", r->seed()}, {"value", v.value}});
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
  return nlohmann::json{{"metric", metric}, {"x", x_is_d ? "bits_d" : "bits_g"}, {"series", std::move(out_series)}};
}

}  // namespace bitsweep::dashboard
