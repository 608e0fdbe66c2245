// The bitsweep version workers report when they register.
#pragma once

namespace bitsweep {
inline constexpr const char* kVersion = "0.1.0";
}  // namespace bitsweep
