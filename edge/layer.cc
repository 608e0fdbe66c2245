#include "edge/layer.h"

#include <cmath>
#include <cstring>

#include "edge/decode.h"

namespace bitsweep::edge {
namespace {

// Float32 as the file stores it (little-endian, as are the hosts the
// runtime targets: x86-64, ARM, WebAssembly).
float ReadFloat(const uint8_t* p) {
  float f;
  std::memcpy(&f, p, sizeof f);
  return f;
}

Status ReadFloats(const BsgTensor& t, const std::string& source, std::vector<float>* out) {
  out->resize(static_cast<size_t>(t.count));
  for (int64_t i = 0; i < t.count; ++i) {
    (*out)[i] = ReadFloat(t.data + 4 * i);
    if (!std::isfinite((*out)[i])) {
      return Status::Corruption(source + ": tensor " + t.name + " holds a non-finite value at " + std::to_string(i));
    }
  }
  return Status::Ok();
}

// Folds batch norm (eval mode) into a per-channel scale and bias.
Status FoldNorm(const BsgFile& file, const std::string& norm, int cout, const std::string& source,
                std::vector<double>* scale, std::vector<double>* bias) {
  scale->assign(static_cast<size_t>(cout), 1.0);
  bias->assign(static_cast<size_t>(cout), 0.0);
  if (norm.empty()) return Status::Ok();
  std::vector<float> gamma, beta, mean, var;
  BITSWEEP_EDGE_RETURN_IF_ERROR(ReadFloats(*file.Find(norm + ".weight"), source, &gamma));
  BITSWEEP_EDGE_RETURN_IF_ERROR(ReadFloats(*file.Find(norm + ".bias"), source, &beta));
  BITSWEEP_EDGE_RETURN_IF_ERROR(ReadFloats(*file.Find(norm + ".running_mean"), source, &mean));
  BITSWEEP_EDGE_RETURN_IF_ERROR(ReadFloats(*file.Find(norm + ".running_var"), source, &var));
  for (int c = 0; c < cout; ++c) {
    if (var[c] < 0.0f) {
      return Status::Corruption(source + ": tensor " + norm + ".running_var holds a negative variance at " +
                                std::to_string(c));
    }
    (*scale)[c] = gamma[c] / std::sqrt(static_cast<double>(var[c]) + kBatchNormEps);
    (*bias)[c] = beta[c] - mean[c] * (*scale)[c];
  }
  return Status::Ok();
}

}  // namespace

int64_t Layer::held_bytes() const {
  return static_cast<int64_t>(levels.size() * sizeof(float) + codes.size() + floats.size() * sizeof(float) +
                              scale.size() * sizeof(float) + bias.size() * sizeof(float));
}

Status BuildLayer(const BsgFile& file, const LayerShape& shape, bool output, int nr, WeightMode mode,
                  const std::string& source, Layer* layer) {
  *layer = Layer();
  layer->shape = shape;
  layer->output = output;
  const BsgTensor& w = *file.Find(shape.name + ".weight");  // ParseBsg checked it is there
  std::vector<double> scale, bias;
  BITSWEEP_EDGE_RETURN_IF_ERROR(FoldNorm(file, shape.norm, shape.cout, source, &scale, &bias));

  // The weights' values: a level table and codes, or floats.
  std::vector<float> levels, file_floats;
  const uint8_t* file_codes = nullptr;
  if (w.encoding == Encoding::kPacked) {
    levels.resize(size_t{1} << w.bits);
    for (size_t i = 0; i < levels.size(); ++i) {
      levels[i] = ReadFloat(w.data + 4 * i);
      if (!std::isfinite(levels[i])) {
        return Status::Corruption(source + ": tensor " + w.name + " has a non-finite level " + std::to_string(i));
      }
    }
    file_codes = w.data + levels.size() * 4;
  } else {
    BITSWEEP_EDGE_RETURN_IF_ERROR(ReadFloats(w, source, &file_floats));
  }
  const bool keep_packed = w.encoding == Encoding::kPacked && mode == WeightMode::kPacked;
  layer->bits = keep_packed ? w.bits : 32;
  if (keep_packed) layer->levels = levels;
  auto value = [&](int64_t index) {
    return file_codes != nullptr ? levels[ReadCode(file_codes, w.bits, index)] : file_floats[index];
  };

  // Walks the weights in the kernels' order, calling visit(i, file index,
  // output channel) for each, with file index -1 for a padding column. The
  // file's order is [cin][cout][kh][kw]. (A walk, not a list of indices: a
  // list would cost 12 bytes per weight while loading.)
  int pos_of_slot[kSlots];
  for (int kh = 0; kh < 4; ++kh) {
    for (int kw = 0; kw < 4; ++kw) pos_of_slot[KernelSlot(shape.kind, kh, kw)] = kh * 4 + kw;
  }
  const int cin = shape.cin, cout = shape.cout;
  size_t total = 0;
  if (!output) {
    layer->tiles = {cin, cout, nr, cin < kKc ? cin : kKc};
    total = layer->tiles.total_floats();
  } else {
    total = static_cast<size_t>(WeightCount(shape));
  }
  auto walk = [&](auto&& visit) {
    size_t i = 0;
    if (output) {
      // [phase][cout][tap][cin]: one output channel's weights of a phase
      // are the planar kernel's contiguous [taps][cin].
      const int taps = shape.kind == LayerKind::kProject ? 1 : 4, phases = kSlots / taps;
      for (int f = 0; f < phases; ++f) {
        for (int co = 0; co < cout; ++co) {
          for (int t = 0; t < taps; ++t) {
            for (int ci = 0; ci < cin; ++ci) visit(i++, (int64_t{ci} * cout + co) * 16 + pos_of_slot[f * taps + t], co);
          }
        }
      }
      return;
    }
    const TileGeometry& g = layer->tiles;
    for (int jb = 0; jb < g.col_blocks(); ++jb) {
      for (int kb = 0; kb < g.k_blocks(); ++kb) {
        for (int s = 0; s < kSlots; ++s) {
          for (int k = 0; k < g.rows(kb); ++k) {
            const int ci = kb * g.kc + k;
            for (int j = 0; j < nr; ++j) {
              const int co = jb * nr + j;
              visit(i++, co < cout ? (int64_t{ci} * cout + co) * 16 + pos_of_slot[s] : int64_t{-1}, co);
            }
          }
        }
      }
    }
  };

  if (!output) {
    // Folded norm per column, padded to whole blocks.
    const size_t padded = static_cast<size_t>(layer->tiles.col_blocks()) * static_cast<size_t>(nr);
    layer->bias.assign(padded, 0.0f);
    for (int co = 0; co < cout; ++co) layer->bias[co] = static_cast<float>(bias[co]);
    if (keep_packed) {
      layer->scale.assign(padded, 1.0f);
      for (int co = 0; co < cout; ++co) layer->scale[co] = static_cast<float>(scale[co]);
    }
  }
  if (keep_packed) {
    layer->codes.assign((total * static_cast<size_t>(w.bits) + 7) / 8 + kCodePadding, 0);
    walk([&](size_t i, int64_t from, int) {
      if (from >= 0) WriteCode(layer->codes.data(), w.bits, static_cast<int64_t>(i), ReadCode(file_codes, w.bits, from));
    });
  } else {
    layer->floats.resize(total);
    walk([&](size_t i, int64_t from, int co) {
      layer->floats[i] = from < 0 ? 0.0f : static_cast<float>(value(from) * scale[co]);
    });
  }
  return Status::Ok();
}

}  // namespace bitsweep::edge
