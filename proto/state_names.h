// The names of job and sweep states as users see them (CLI tables, the
// dashboard, filters): "QUEUED", "RUNNING", "SUCCEEDED", ...
#pragma once

#include "bitsweep/v1/bitsweep.pb.h"

namespace bitsweep {

/// "QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED" ("?" otherwise).
const char* JobStateName(v1::JobState state);
/// "RUNNING", "DONE", "CANCELLED" ("?" otherwise).
const char* SweepStateName(v1::SweepState state);

}  // namespace bitsweep
