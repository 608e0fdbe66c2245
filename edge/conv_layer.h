// Running one transposed convolution on a batch, as sub-pixel phases.
//
// A 4x4 transposed convolution with stride 2 and padding 1 sends input
// pixel (a, b) to the 4x4 output patch around (2a, 2b). Seen from the output,
// pixel (2a + py, 2b + px) takes exactly four kernel positions, each from a
// fixed neighbour (a + py - dy, b + px - dx), dy, dx in {0, 1}: per phase
// (py, px) an ordinary 2x2 convolution, i.e. a GEMM whose K runs over 4 taps
// x the input channels. The first layer (1x1 -> 4x4) is 16 phases of one tap:
// one output pixel per kernel position. No output is written twice, so
// nothing is accumulated in memory and nothing is copied into columns: the
// kernels read input pixels through row pointers (zeros outside the image).
//
// Activations are NHWC (channels innermost: a pixel's channels are a GEMM
// row). The output layer has 1 or 3 channels, too few for GEMM columns: it
// runs with the vector lanes along rows of pixels instead, from a
// channel-major copy of its input, and writes NCHW images, tanh applied,
// like LibTorch.
//
// Work is split into tasks: a hidden layer into column blocks (nr output
// channels, which own their weight tiles) times row ranges; a task decodes
// the tiles it needs into its thread's workspace, so threads never wait for
// each other inside a layer.
#pragma once

#include <cstdint>
#include <vector>

#include "edge/decode.h"
#include "edge/kernels/kernels.h"
#include "edge/layer.h"

namespace bitsweep::edge {

/// Per-thread scratch of the layer loops.
struct Workspace {
  /// One decoded tile (hidden layers) or the output layer's weights.
  std::vector<float> tile;
  DecodeScratch decode;
  std::vector<const float*> a;
  std::vector<float*> c;
  /// The output layer: a channel-major, zero-bordered copy of its input
  /// rows, and one row of results.
  std::vector<float> planar;
  std::vector<float> line;
};

struct LayerPlan {
  int col_blocks = 1;
  int row_splits = 1;
  /// Rows of each phase: output pixels per phase over the batch.
  int64_t rows = 0;
  int tasks() const { return col_blocks * row_splits; }
};

/// How to split `layer` over `threads` for a batch of `images`.
LayerPlan PlanLayer(const Layer& layer, const Kernels& kernels, int images, int threads);

/// Runs task `task` of a hidden layer: `in` [images][in][in][cin] ->
/// `out` [images][out][out][cout], both NHWC. `zeros` holds at least kKc
/// zeros (the input of taps outside the image).
void RunHiddenTask(const Layer& layer, const Kernels& kernels, const LayerPlan& plan, int task, const float* in,
                   int images, float* out, const float* zeros, Workspace* ws);

/// The output layer's weights, [phase][cout][tap][cin] floats: its float
/// weights, or its codes decoded into `ws`.
const float* OutputWeights(const Layer& layer, Workspace* ws);

/// Runs task `task` of the output layer (an upsampling layer) with
/// `weights` from OutputWeights: `in` NHWC -> `out` [images][channels][size]
/// [size] after tanh.
void RunOutputTask(const Layer& layer, const Kernels& kernels, const LayerPlan& plan, int task, const float* weights,
                   const float* in, int images, float* out, Workspace* ws);

}  // namespace bitsweep::edge
