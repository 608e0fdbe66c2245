#include "edge/latents.h"

#include <cmath>

namespace bitsweep::edge {
namespace {

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double Uniform(uint64_t* state) { return static_cast<double>(SplitMix64(state) >> 11) * 0x1.0p-53; }

}  // namespace

void DrawLatents(uint64_t seed, int64_t n, int nz, float* out) {
  uint64_t state = seed;
  const int64_t count = n * nz;
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  for (int64_t i = 0; i < count; i += 2) {
    const double u1 = Uniform(&state);
    const double u2 = Uniform(&state);
    const double r = std::sqrt(-2.0 * std::log(1.0 - u1));
    out[i] = static_cast<float>(r * std::cos(kTwoPi * u2));
    if (i + 1 < count) out[i + 1] = static_cast<float>(r * std::sin(kTwoPi * u2));
  }
}

}  // namespace bitsweep::edge
