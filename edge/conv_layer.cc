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
  // The next row, without dividing.
  void Advance(Row* row) const {
    if (kind == LayerKind::kProject) {
      ++row->n;
    } else if (++row->b == in) {
      row->b = 0;
      if (++row->a == in) {
        row->a = 0;
        ++row->n;
      }
    }
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
  if (layer.output) {
    // Rows of input pixels (image, a): each gives output rows 2a and 2a + 1.
    plan.rows = int64_t{images} * layer.shape.in_size;
    plan.row_splits = static_cast<int>(std::min<int64_t>(threads <= 1 ? 1 : 2 * int64_t{threads}, plan.rows));
    return plan;
  }
  plan.rows = PhasesOf(layer).rows(images);
  plan.col_blocks = layer.tiles.col_blocks();
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
      Row row = phases.Locate(r0);
      for (int64_t r = r0; r < r1;) {
        const size_t rows = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(mr), r1 - r));
        for (size_t i = 0; i < rows; ++i, phases.Advance(&row)) {
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
                   const float* in, int images, float* out, Workspace* ws) {
  // Output rows 2a + py take input rows a + py - dy (dy = 0, 1), shifted by
  // px - dx columns: each image's input rows [a0 - 1, a1] are copied
  // channel-major with a zero border, so the planar kernel reads whole
  // shifted rows and never leaves the buffer.
  const int h = layer.shape.in_size, o = layer.shape.out_size, cin = layer.shape.cin, cout = layer.shape.cout;
  const int width = h + 2;
  int64_t r0 = 0, r1 = 0;
  RowRange(plan.rows, task, plan.row_splits, &r0, &r1);
  ws->line.resize(static_cast<size_t>(h));
  for (int64_t r = r0; r < r1;) {
    const int64_t n = r / h;
    const int a0 = static_cast<int>(r % h);
    const int a1 = static_cast<int>(std::min<int64_t>(h, a0 + (r1 - r)));
    const int rows = a1 - a0 + 2;  // with one row of border above and below
    const size_t channel_stride = static_cast<size_t>(rows) * width;
    ws->planar.assign(static_cast<size_t>(cin) * channel_stride, 0.0f);
    for (int ih = std::max(0, a0 - 1); ih < std::min(h, a1 + 1); ++ih) {
      for (int iw = 0; iw < h; ++iw) {
        const float* pixel = in + ((n * h + ih) * h + iw) * cin;
        float* to = ws->planar.data() + static_cast<size_t>(ih - (a0 - 1)) * width + iw + 1;
        for (int ci = 0; ci < cin; ++ci) to[ci * channel_stride] = pixel[ci];
      }
    }
    for (int a = a0; a < a1; ++a) {
      for (int f = 0; f < 4; ++f) {
        const int py = f / 2, px = f % 2;
        const float* x[4];
        for (int t = 0; t < 4; ++t) {
          const int ih = a + py - t / 2, column = px - t % 2 + 1;
          x[t] = ws->planar.data() + static_cast<size_t>(ih - (a0 - 1)) * width + column;
        }
        for (int co = 0; co < cout; ++co) {
          kernels.planar(static_cast<size_t>(h), static_cast<size_t>(cin), 4, x, channel_stride,
                         weights + (static_cast<size_t>(f) * cout + co) * 4 * cin, ws->line.data());
          float* to = out + ((n * cout + co) * o + 2 * a + py) * o + px;  // NCHW, every other pixel
          for (int b = 0; b < h; ++b) to[2 * b] = ws->line[b];
        }
      }
    }
    // Output rows [2 a0, 2 a1) of every channel are done: tanh, contiguous.
    for (int co = 0; co < cout; ++co) {
      kernels.tanh(out + ((n * cout + co) * o + 2 * a0) * o, static_cast<size_t>(2 * (a1 - a0)) * o);
    }
    r += a1 - a0;
  }
}

}  // namespace bitsweep::edge
