#include "coordinator/records.h"

#include <array>

namespace bitsweep::coordinator {
namespace {
constexpr std::array<const char*, 5> kJobStates = {"QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"};
constexpr std::array<const char*, 3> kSweepStates = {"RUNNING", "DONE", "CANCELLED"};
}  // namespace

const char* JobStateName(JobState state) { return kJobStates[static_cast<size_t>(state)]; }

Result<JobState> ParseJobState(const std::string& name) {
  for (size_t i = 0; i < kJobStates.size(); ++i) {
    if (name == kJobStates[i]) return static_cast<JobState>(i);
  }
  return Status::Corruption("unknown job state \"" + name + "\"");
}

const char* SweepStateName(SweepState state) { return kSweepStates[static_cast<size_t>(state)]; }

Result<SweepState> ParseSweepState(const std::string& name) {
  for (size_t i = 0; i < kSweepStates.size(); ++i) {
    if (name == kSweepStates[i]) return static_cast<SweepState>(i);
  }
  return Status::Corruption("unknown sweep state \"" + name + "\"");
}

}  // namespace bitsweep::coordinator
