#include "cli/verdict_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "common/strategy_spec.h"

namespace bitsweep::cli {
namespace {

using coordinator::Decision;

std::string Format(const char* format, double a, double b = 0.0, double c = 0.0) {
  char buffer[128];
  std::snprintf(buffer, sizeof buffer, format, a, b, c);
  return buffer;
}

std::string Bits(int bits) { return std::to_string(bits) + (bits == 1 ? " bit" : " bits"); }

std::string RatioWithInterval(const ConfigVerdict& v) { return Format("%.2fx, %.2f-%.2f", v.ratio, v.low, v.high); }

double RelativeVariance(double value, double se) { return value > 0.0 ? (se / value) * (se / value) : 0.0; }

}  // namespace

std::vector<ConfigVerdict> JudgeConfigurations(const std::vector<ReportRow>& rows, const ReportOptions& options) {
  const bool lower = LowerIsBetter(options.metric);
  std::set<std::string> protocols;
  for (const auto& r : rows) protocols.insert(r.protocol);
  std::vector<ConfigVerdict> out;
  for (const auto& protocol : protocols) {
    // The reference: the protocol's own full-precision generator, or else
    // the trained baseline (from scratch) that warm starts and PTQ start
    // from, as in a multi_precision search.
    std::string reference_protocol = protocol;
    auto has_reference = [&](const std::string& p) {
      return std::any_of(rows.begin(), rows.end(),
                         [&](const ReportRow& r) { return r.protocol == p && r.method == "none"; });
    };
    if (!has_reference(protocol)) reference_protocol = "from-scratch";
    std::map<uint64_t, const ReportRow*> reference_of_seed;
    double reference_sum = 0.0, reference_variance = 0.0;
    std::map<std::pair<std::string, int>, std::vector<const ReportRow*>> groups;
    for (const auto& r : rows) {
      if (r.protocol == reference_protocol && r.method == "none") {
        reference_of_seed[r.seed] = &r;
        reference_sum += r.value;
        reference_variance += RelativeVariance(r.value, r.se);
      } else if (r.protocol == protocol && r.method != "none") {
        groups[{r.method, r.bits}].push_back(&r);
      }
    }
    if (reference_of_seed.empty()) continue;  // nothing to compare with
    const double n_references = static_cast<double>(reference_of_seed.size());
    const double reference_mean = reference_sum / n_references;

    struct Margins {
      std::vector<double> margins;
      double sampling_variance = 0.0;
    };
    std::map<std::pair<std::string, int>, Margins> margins;
    std::vector<std::vector<double>> all;
    for (const auto& [key, runs] : groups) {
      Margins m;
      for (const ReportRow* r : runs) {
        auto paired = reference_of_seed.find(r->seed);
        // Unpaired (no reference of that seed): the references' mean, with
        // the sampling variance of a mean of them.
        const double reference = paired != reference_of_seed.end() ? paired->second->value : reference_mean;
        const double reference_var = paired != reference_of_seed.end()
                                         ? RelativeVariance(paired->second->value, paired->second->se)
                                         : reference_variance / (n_references * n_references);
        const double bound = lower ? options.bound * reference : reference / options.bound;
        m.margins.push_back(coordinator::Margin(r->value, bound, lower));
        m.sampling_variance += RelativeVariance(r->value, r->se) + reference_var;
      }
      m.sampling_variance /= static_cast<double>(m.margins.size());
      all.push_back(m.margins);
      margins[key] = std::move(m);
    }
    coordinator::PooledSpread spread = coordinator::PoolSpread(all);
    const bool sampling_only = spread.df <= 0.0;
    if (sampling_only) spread = {0.0, std::numeric_limits<double>::infinity()};

    for (const auto& [key, runs] : groups) {
      const Margins& m = margins[key];
      const coordinator::Judgement j =
          coordinator::JudgeMargins(m.margins, spread, m.sampling_variance, options.confidence);
      ConfigVerdict v;
      v.protocol = protocol;
      v.reference = reference_protocol;
      v.method = key.first;
      v.bits = key.second;
      v.seeds = static_cast<int>(runs.size());
      double variance = 0.0;
      for (const ReportRow* r : runs) {
        v.value += r->value / static_cast<double>(runs.size());
        variance += r->se * r->se;
      }
      v.se = std::sqrt(variance) / static_cast<double>(runs.size());
      // A margin is log(ratio / bound): back to ratios of full precision.
      v.ratio = options.bound * std::exp(j.mean);
      v.low = options.bound * std::exp(j.lower);
      v.high = options.bound * std::exp(j.upper);
      v.decision = j.decision;
      v.sampling_only = sampling_only;
      out.push_back(v);
    }
  }
  return out;
}

std::vector<std::string> VerdictLines(const std::vector<ConfigVerdict>& verdicts, const ReportOptions& options) {
  std::vector<std::string> lines;
  const std::string within = options.metric + " within " + Format("%gx", options.bound) + " of full precision";
  // Verdicts come ordered by protocol, method, bits: one run per line.
  for (size_t begin = 0; begin < verdicts.size();) {
    size_t end = begin;
    while (end < verdicts.size() && verdicts[end].protocol == verdicts[begin].protocol &&
           verdicts[end].method == verdicts[begin].method) {
      ++end;
    }
    const std::string who = verdicts[begin].method + " (" + verdicts[begin].protocol + "): ";
    // The answer: the fewest bits from which every wider width meets.
    size_t answer = end;
    while (answer > begin && verdicts[answer - 1].decision == Decision::kMeets) --answer;
    std::string line;
    if (answer < end) {
      line = who + "keeps " + within + " down to " + Bits(verdicts[answer].bits);
      if (answer == begin) {
        line += ", the fewest tried";
      } else {
        const ConfigVerdict& narrower = verdicts[answer - 1];
        line += "; " + Bits(narrower.bits) +
                (narrower.decision == Decision::kFails ? " fails (" : " is undecided (") + RatioWithInterval(narrower) +
                ")";
      }
    } else {
      const ConfigVerdict& widest = verdicts[end - 1];
      if (widest.decision == Decision::kFails) {
        line = who + "does not keep " + within + " at any width tried (" + Bits(widest.bits) + ": " +
               RatioWithInterval(widest) + ")";
      } else {
        line = who + "undecided at this budget: " + Bits(widest.bits) + " is " + Format("%.2fx", widest.ratio) +
               " of full precision (" + Format("%.2f-%.2f", widest.low, widest.high) + ")";
      }
    }
    lines.push_back(line);
    begin = end;
  }
  std::set<std::string> sampling_only;
  for (const auto& v : verdicts) {
    if (v.sampling_only) sampling_only.insert(v.protocol);
  }
  for (const auto& protocol : sampling_only) {
    lines.push_back("(" + protocol + ": one seed per configuration, so its intervals cover the evaluation's sampling " +
                    "error only, not training noise; run more seeds for that)");
  }
  return lines;
}

}  // namespace bitsweep::cli
