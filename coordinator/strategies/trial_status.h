// Where one job of a search stands, as strategies keep it in their state.
#pragma once

#include <string>

namespace bitsweep::coordinator {

enum class TrialStatus { kPending, kSucceeded, kFailed };

inline const char* TrialStatusName(TrialStatus status) {
  switch (status) {
    case TrialStatus::kPending: return "pending";
    case TrialStatus::kSucceeded: return "succeeded";
    case TrialStatus::kFailed: return "failed";
  }
  return "pending";
}

/// The status a saved state names ("pending" for anything unknown).
inline TrialStatus ParseTrialStatus(const std::string& name) {
  if (name == "succeeded") return TrialStatus::kSucceeded;
  if (name == "failed") return TrialStatus::kFailed;
  return TrialStatus::kPending;
}

}  // namespace bitsweep::coordinator
