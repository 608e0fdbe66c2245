// The SHA-256 of the checkpoints a layer-allocation sweep names
// (strategy.baseline_files), computed where the sweep is submitted from:
// the coordinator never reads files a spec names, and the hash is the key
// the search's measurements are stored under.
#pragma once

#include "common/status.h"
#include "common/sweep_spec.h"

namespace bitsweep {

/// Fills in the sha256 of every baseline file that has none, reading the
/// file; checks the given ones against the file where it can be read (a
/// file that differs from its hash is an error naming it). A file that
/// cannot be read and has no sha256 is an error naming the field.
Status HashBaselineFiles(SweepSpec* sweep);

}  // namespace bitsweep
