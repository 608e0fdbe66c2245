// Latent vectors: the runtime's own documented random generator.
//
// `bitsweep sample` draws latents with LibTorch's generator, which nothing
// without LibTorch can reproduce. So both sides read and write latents as
// .npy files (edge/npy.h), and the runtime, given only a seed, draws its
// own with DrawLatents below, the same on every platform (the browser's
// WebAssembly build included).
#pragma once

#include <cstdint>

namespace bitsweep::edge {

/// Fills out[0 .. n*nz) with standard normal values, row after row:
/// SplitMix64 seeded with `seed` gives 64-bit words; each word w becomes
/// u = (w >> 11) * 2^-53 in [0, 1); each pair of values comes from two
/// consecutive words by Box-Muller in double precision,
///   r = sqrt(-2 ln(1 - u1)),  out[2i] = r cos(2 pi u2),  out[2i+1] = r sin(2 pi u2),
/// rounded to float (an odd count drops the last sine).
void DrawLatents(uint64_t seed, int64_t n, int nz, float* out);

}  // namespace bitsweep::edge
