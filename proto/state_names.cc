#include "proto/state_names.h"

namespace bitsweep {

const char* JobStateName(v1::JobState state) {
  switch (state) {
    case v1::JOB_QUEUED: return "QUEUED";
    case v1::JOB_RUNNING: return "RUNNING";
    case v1::JOB_SUCCEEDED: return "SUCCEEDED";
    case v1::JOB_FAILED: return "FAILED";
    case v1::JOB_CANCELLED: return "CANCELLED";
    default: return "?";
  }
}

const char* SweepStateName(v1::SweepState state) {
  switch (state) {
    case v1::SWEEP_RUNNING: return "RUNNING";
    case v1::SWEEP_DONE: return "DONE";
    case v1::SWEEP_CANCELLED: return "CANCELLED";
    default: return "?";
  }
}

}  // namespace bitsweep
