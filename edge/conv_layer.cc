#include "edge/conv_layer.h"

#include <algorithm>

namespace bitsweep::edge {
namespace {

// Where a row of a phase lies: image n, input pixel (a, b); the first
// layer has one row per image (a = b = 0).
struct Row {
  int64_t n;
  int a, b;
};

// Which input pixels an output pixel of a phase reads, and where it lies.
struct Phases {
  LayerKind kind;
  int in;   // input size
  int out;  // output size

  int count() const { return kind == LayerKind::kProject ? kSlots : 4; }
  int taps() const { return kind == LayerKind::kProject ? 1 : 4; }
  int64_t rows(int images) const {
    return kind == LayerKind::kProject ? images : int64_t{images} * in * in;
  }
  // The two divisions per row, done once for all its taps.
  Row Locate(int64_t r) const {
    if (kind == LayerKind::kProject) return {r, 0, 0};
    const int64_t plane = int64_t{in} * in;
    const int64_t n = r / plane, rest = r - n * plane;
    return {n, static_cast<int>(rest / in), static_cast<int>(rest % in)};
  }
  // Input pixel (index into [images][in][in]) of tap t of phase f, or -1
  // outside the image.
  int64_t InputPixel(int f, int t, const Row& row) const {
    if (kind == LayerKind::kProject) return row.n;
    const int ih = row.a + f / 2 - t / 2, iw = row.b + f % 2 - t % 2;
    if (ih < 0 || ih >= in || iw < 0 || iw >= in) return -1;
    return (row.n * in + ih) * in + iw;
  }
  // Output pixel (index into [images][out][out]) of phase f.
  int64_t OutputPixel(int f, const Row& row) const {
    if (kind == LayerKind::kProject) return (row.n * 4 + f / 4) * 4 + f % 4;
    return (row.n * out + 2 * row.a + f / 2) * out + 2 * row.b + f % 2;
  }
};

Phases PhasesOf(const Layer& layer) { return {layer.shape.kind, layer.shape.in_size, layer.shape.out_size}; }

// Row range of split `s` of `splits`.
void RowRange(int64_t rows, int s, int splits, int64_t* begin, int64_t* end) {
  *begin = rows * s / splits;
  *end = rows * (s + 1) / splits;
}

}  // namespace

LayerPlan PlanLayer(const Layer& layer, const Kernels& kernels, int images, int threads) {
  LayerPlan plan;
  plan.rows = PhasesOf(layer).rows(images);
  plan.col_blocks = layer.output ? 1 : layer.tiles.col_blocks();
  if (threads <= 1) return plan;
  // Enough tasks for every thread twice over (tasks differ in cost), but
  // no row range under one register block: splitting rows repeats the
  // tile decoding, splitting columns does not.
  const int64_t wanted = (2 * int64_t{threads} + plan.col_blocks - 1) / plan.col_blocks;
  const int64_t most = std::max<int64_t>(1, plan.rows / kernels.mr);
  plan.row_splits = static_cast<int>(std::min(wanted, most));
  return plan;
}

void RunHiddenTask(const Layer& layer, const Kernels& kernels, const LayerPlan& plan, int task, const float* in,
                   int images, float* out, const float* zeros, Workspace* ws) {
  const TileGeometry& g = layer.tiles;
  const Phases phases = PhasesOf(layer);
  const int jb = task % plan.col_blocks;
  int64_t r0 = 0, r1 = 0;
  RowRange(plan.rows, task / plan.col_blocks, plan.row_splits, &r0, &r1);
  const int nr = g.nr, nc = g.cols(jb), taps = phases.taps(), cin = layer.shape.cin, cout = layer.shape.cout;
  const size_t mr = static_cast<size_t>(kernels.mr);
  ws->a.resize(static_cast<size_t>(taps) * mr);
  ws->c.resize(mr);
  if (layer.packed()) ws->tile.resize(g.tile_floats(0));
  Epilogue epilogue;
  epilogue.scale = layer.scale.empty() ? nullptr : layer.scale.data() + jb * nr;
  epilogue.bias = layer.bias.data() + jb * nr;
  epilogue.relu = true;

  for (int kb = 0; kb < g.k_blocks(); ++kb) {
    const int kc = g.rows(kb), k0 = kb * g.kc;
    const float* tile = nullptr;
    if (layer.packed()) {
      DecodeCodes(layer.codes.data(), layer.bits, layer.levels.data(), static_cast<int64_t>(g.tile_offset(jb, kb)),
                  static_cast<int64_t>(g.tile_floats(kb)), ws->tile.data(), &ws->decode);
      tile = ws->tile.data();
    } else {
      tile = layer.floats.data() + g.tile_offset(jb, kb);
    }
    const bool last = kb + 1 == g.k_blocks();
    for (int f = 0; f < phases.count(); ++f) {
      const float* panel = tile + static_cast<size_t>(f) * taps * kc * nr;
      for (int64_t r = r0; r < r1;) {
        const size_t rows = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(mr), r1 - r));
        for (size_t i = 0; i < rows; ++i) {
          const Row row = phases.Locate(r + static_cast<int64_t>(i));
          for (int t = 0; t < taps; ++t) {
            const int64_t pixel = phases.InputPixel(f, t, row);
            ws->a[t * rows + i] = pixel < 0 ? zeros : in + pixel * cin + k0;
          }
          ws->c[i] = out + phases.OutputPixel(f, row) * cout + jb * nr;
        }
        const IgemmFn fn = rows == 1 ? kernels.igemm_1 : kernels.igemm;
        fn(rows, static_cast<size_t>(nc), static_cast<size_t>(kc), static_cast<size_t>(taps), ws->a.data(), panel,
           ws->c.data(), kb > 0, last ? &epilogue : nullptr);
        r += static_cast<int64_t>(rows);
      }
    }
  }
}

const float* OutputWeights(const Layer& layer, Workspace* ws) {
  if (!layer.packed()) return layer.floats.data();
  const int64_t count = WeightCount(layer.shape);
  ws->tile.resize(static_cast<size_t>(count));
  DecodeCodes(layer.codes.data(), layer.bits, layer.levels.data(), 0, count, ws->tile.data(), &ws->decode);
  return ws->tile.data();
}

void RunOutputTask(const Layer& layer, const Kernels& kernels, const LayerPlan& plan, int task, const float* weights,
                   const float* in, int images, float* out, const float* zeros, Workspace* ws) {
  const Phases phases = PhasesOf(layer);
  int64_t r0 = 0, r1 = 0;
  RowRange(plan.rows, task, plan.row_splits, &r0, &r1);
  const int taps = phases.taps(), cin = layer.shape.cin, cout = layer.shape.cout;
  const int64_t plane = int64_t{layer.shape.out_size} * layer.shape.out_size;
  // Rows per kernel call: enough to amortise the call, few enough for the
  // pointer arrays to stay small.
  constexpr int64_t kBlock = 64;
  ws->a.resize(static_cast<size_t>(taps * kBlock));
  ws->c.resize(static_cast<size_t>(kBlock));
  for (int f = 0; f < phases.count(); ++f) {
    const float* w = weights + static_cast<size_t>(f) * taps * cout * cin;
    for (int64_t r = r0; r < r1; r += kBlock) {
      const size_t rows = static_cast<size_t>(std::min(kBlock, r1 - r));
      for (size_t i = 0; i < rows; ++i) {
        const Row row = phases.Locate(r + static_cast<int64_t>(i));
        for (int t = 0; t < taps; ++t) {
          const int64_t pixel = phases.InputPixel(f, t, row);
          ws->a[t * rows + i] = pixel < 0 ? zeros : in + pixel * cin;
        }
        // NCHW: channel 0 of that pixel of image n.
        ws->c[i] = out + row.n * cout * plane + (phases.OutputPixel(f, row) - row.n * plane);
      }
      kernels.dot(rows, static_cast<size_t>(cout), static_cast<size_t>(cin), static_cast<size_t>(taps), ws->a.data(),
                  w, ws->c.data(), static_cast<size_t>(plane));
    }
  }
}

}  // namespace bitsweep::edge
