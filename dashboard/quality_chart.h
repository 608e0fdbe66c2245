// The chart `bitsweep plot` draws, as data for an interactive one: a
// metric against bits, one series per protocol and method, one point per
// finished configuration (the mean over its seeds) with its error bar and
// the jobs behind it.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "bitsweep/v1/bitsweep.pb.h"
#include "common/status.h"

namespace bitsweep::dashboard {

/// `metric` is fid, is or kid. `side` "g": the configurations whose D is at
/// full precision, against G's bits; "d": those whose D is quantized,
/// against D's bits (one series per D method and G width). Full precision
/// appears in both, at 32 bits. Error bars: the standard deviation over
/// seeds where a configuration has two or more, else the sampling standard
/// error of its one run (each point says which). Only SUCCEEDED rows count.
/// A point lists at most 12 of its jobs; `n` counts them all.
/// A generator whose layers differ in width (per-layer widths, widths_g
/// "2,2,4,8") is no point of its nominal bits: on G's side it is a point of
/// the series "<method> per layer" (per_layer true) at its weight-averaged
/// bits (mean_bits_g), one point per allocation, with its "widths".
Result<nlohmann::json> QualityChart(const v1::QueryResultsResponse& results, const std::string& metric,
                                    const std::string& side = "g");

}  // namespace bitsweep::dashboard
