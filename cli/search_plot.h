// `bitsweep plot`: a search as a picture. Left, quality against bits per
// method (G searched with D at full precision as solid lines, D searched
// with G at its chosen width dashed; error bars = std over seeds; the
// full-precision baseline and the requirement's bound as horizontal lines).
// Right, every configuration's packed generator size against quality, with
// the Pareto front.
#pragma once

#include <string>
#include <vector>

#include "cli/search_summary.h"
#include "common/status.h"

namespace bitsweep::cli {

/// Draws the chart of `configs` (see GroupBySeed) to a PNG file.
Status PlotSearch(const SearchInfo& info, const std::vector<ConfigSummary>& configs, const std::string& path);

}  // namespace bitsweep::cli
