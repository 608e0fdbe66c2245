// Packed generator files made without LibTorch, for the edge runtime's
// tests and fuzz seeds: random weights and batch-norm statistics in the
// file format bitsweep writes (edge/bsg_file.h), and a plain reference
// forward pass (direct transposed convolution in double precision) to hold
// the runtime's output against.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "edge/architecture.h"

namespace bitsweep::edge::testing {

struct SyntheticLayer {
  /// 1..8 packed, 32 float32.
  int bits = 32;
  /// Packed: 2^bits levels and one code per weight.
  std::vector<float> levels;
  std::vector<uint32_t> codes;
  /// The weights' values, [cin][cout][4][4] (levels[codes] when packed).
  std::vector<float> weights;
  /// Batch norm (empty for the output layer).
  std::vector<float> gamma, beta, mean, var;
};

struct SyntheticGenerator {
  Arch arch;
  std::string method = "em";
  int nominal_bits = 2;
  std::vector<SyntheticLayer> layers;
};

/// Random weights (scaled to keep activations near unit size) for `arch`,
/// layer i packed at bits[i] (32: float32). Packed layers get uniform
/// levels (affine, like em/minmax) when `affine`, else random sorted ones
/// (like log/tanh).
SyntheticGenerator MakeSynthetic(const Arch& arch, const std::vector<int>& bits, uint64_t seed, bool affine = true);

/// The .bsg bytes, as bitsweep's writer lays them out.
std::string WriteBsg(const SyntheticGenerator& g);

/// images [n][channels][size][size] from latents [n][nz]: the definition of
/// the network, in double precision.
std::vector<float> ReferenceForward(const SyntheticGenerator& g, const std::vector<float>& z, int n);

/// The same .bsg with its header replaced by `header` (payload kept), and
/// its header as text: for tests that damage the header.
std::string WithHeader(const std::string& bsg, const std::string& header);
std::string HeaderOf(const std::string& bsg);

}  // namespace bitsweep::edge::testing
