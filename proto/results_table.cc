#include "proto/results_table.h"

#include <algorithm>

namespace bitsweep {

Table ResultsTable(const v1::QueryResultsResponse& results) {
  return ResultsTable(results, 0, static_cast<size_t>(results.rows_size()));
}

Table ResultsTable(const v1::QueryResultsResponse& results, size_t begin, size_t end) {
  Table t;
  // Each metric with its sampling standard error (_se: the value is
  // within about 2 of them of what an unlimited sample would give).
  // Per-layer widths beside each network's bits: "2,2,4,8" and the bits
  // averaged over the layers' weights.
  t.columns = {"sweep",    "job",         "state",    "protocol", "method_g", "bits_g",      "widths_g",
               "mean_bits_g", "method_d", "bits_d",   "widths_d", "mean_bits_d", "loss",     "seed",
               "fid",      "fid_se",      "is",       "is_se",    "kid",      "kid_se",      "model_bytes",
               "wall_s",   "dataset"};
  end = std::min(end, static_cast<size_t>(results.rows_size()));
  for (size_t i = begin; i < end; ++i) {
    const v1::ResultRow& r = results.rows(static_cast<int>(i));
    t.rows.push_back({
        Cell::Text(r.sweep()),
        Cell::Number(static_cast<double>(r.job_id()), "%.0f"),
        Cell::Text(r.state()),
        Cell::Text(r.protocol()),
        Cell::Text(r.method_g()),
        Cell::Number(r.bits_g(), "%.0f"),
        r.widths_g().empty() ? Cell::Missing() : Cell::Text(r.widths_g()),
        r.has_mean_bits_g() ? Cell::Number(r.mean_bits_g(), "%.2f") : Cell::Missing(),
        Cell::Text(r.method_d()),
        Cell::Number(r.bits_d(), "%.0f"),
        r.widths_d().empty() ? Cell::Missing() : Cell::Text(r.widths_d()),
        r.has_mean_bits_d() ? Cell::Number(r.mean_bits_d(), "%.2f") : Cell::Missing(),
        Cell::Text(r.loss()),
        Cell::Number(static_cast<double>(r.seed()), "%.0f"),
        r.has_fid() ? Cell::Number(r.fid(), "%.2f") : Cell::Missing(),
        r.has_fid_se() ? Cell::Number(r.fid_se(), "%.2f") : Cell::Missing(),
        r.has_is() ? Cell::Number(r.is(), "%.3f") : Cell::Missing(),
        r.has_is_se() ? Cell::Number(r.is_se(), "%.3f") : Cell::Missing(),
        r.has_kid() ? Cell::Number(r.kid(), "%.4f") : Cell::Missing(),
        r.has_kid_se() ? Cell::Number(r.kid_se(), "%.4f") : Cell::Missing(),
        r.model_bytes() > 0 ? Cell::Number(static_cast<double>(r.model_bytes()), "%.0f") : Cell::Missing(),
        Cell::Number(r.wall_seconds(), "%.1f"),
        Cell::Text(r.dataset()),
    });
  }
  return t;
}

}  // namespace bitsweep
