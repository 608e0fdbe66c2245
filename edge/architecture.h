// The generator architectures a packed file can hold, as data: the DCGAN
// generators bitsweep trains (qgan/models/dcgan.cc), 32x32 or 64x64 pixels.
//
// A generator is a chain of 4x4 transposed convolutions without bias. The
// first projects the latent vector (1x1) to 4x4 (stride 1, no padding);
// every later one doubles the size (stride 2, padding 1). Each layer but the
// last is followed by batch norm (eps 1e-5, torch's default, which the file
// does not record) and ReLU; the last by tanh.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bitsweep::edge {

/// The "arch" object of the file's header.
struct Arch {
  /// 32 or 64.
  int image_size = 32;
  /// 1 (grey) or 3 (RGB).
  int channels = 1;
  /// Latent size.
  int nz = 100;
  /// Generator width: the last hidden layer has ngf channels.
  int ngf = 64;
};

/// Largest nz and ngf a file may declare. Far above any real DCGAN; they keep
/// every size computed from the header within 64-bit integers.
constexpr int kMaxNz = 1 << 16;
constexpr int kMaxNgf = 1 << 16;
/// Batch norm's epsilon in the generators bitsweep writes.
constexpr double kBatchNormEps = 1e-5;

enum class LayerKind {
  /// 1x1 -> 4x4, stride 1, padding 0.
  kProject,
  /// H x W -> 2H x 2W, stride 2, padding 1.
  kUpsample2x,
};

struct LayerShape {
  /// "conv1", "conv2", ...: the file's tensor names are "<name>.weight".
  std::string name;
  /// Batch norm after it ("bn1", ...), empty for the output layer.
  std::string norm;
  LayerKind kind = LayerKind::kProject;
  int cin = 0;
  int cout = 0;
  /// Input and output height (= width).
  int in_size = 0;
  int out_size = 0;
};

/// Whether `arch` is one the runtime (and bitsweep) can build; `why` says
/// what is wrong otherwise.
bool ValidArch(const Arch& arch, std::string* why);

/// The layers of the generator for a valid `arch`, input to output.
std::vector<LayerShape> GeneratorLayers(const Arch& arch);

/// Weights of a layer: cin * cout * 16 (shape [cin, cout, 4, 4], the
/// layout of torch's ConvTranspose2d weight).
inline int64_t WeightCount(const LayerShape& layer) { return int64_t{layer.cin} * layer.cout * 16; }

}  // namespace bitsweep::edge
