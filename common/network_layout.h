// The DCGAN architectures as data: every convolution of the generator and
// the discriminator with its name, shape and batch norm.
//
// One source of truth for the layer names ("conv1", ...) that specs, the
// per-layer quantization table, checkpoints and the packed file use: the
// models in qgan/ are built from these lists, and the coordinator (which
// never links LibTorch) validates per-layer widths and computes exact packed
// sizes from them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bitsweep {

/// The hyper-parameters that fix a DCGAN's shapes.
struct DcganShape {
  /// 32 or 64.
  int image_size = 32;
  /// 1 (grey) or 3 (RGB).
  int channels = 1;
  int nz = 100;
  int ngf = 64;
  int ndf = 64;
  /// Batch norm in the discriminator (off for WGAN-GP).
  bool d_batchnorm = true;
};

/// One convolution (transposed in the generator), 4x4, without bias.
struct ConvLayer {
  std::string name;
  int in_channels = 0;
  int out_channels = 0;
  int kernel = 4;
  int stride = 1;
  int padding = 0;
  /// Followed by a batch norm named "bn<i>" over `out_channels`.
  bool batch_norm = false;

  int64_t weights() const { return int64_t{in_channels} * out_channels * kernel * kernel; }
};

/// The convolutions of one network, in network order.
struct NetworkLayout {
  std::vector<ConvLayer> layers;

  std::vector<std::string> names() const;
  /// Index of the layer called `name`, or -1.
  int IndexOf(const std::string& name) const;
  /// "conv1, conv2, conv3, conv4", for error messages.
  std::string NameList() const;
  /// Float values that are not convolution weights: each batch norm's scale,
  /// shift, running mean and running variance.
  int64_t BatchNormValues() const;
};

NetworkLayout GeneratorLayout(const DcganShape& shape);
NetworkLayout DiscriminatorLayout(const DcganShape& shape);

/// The layer names of a generator or discriminator of `arch` (dcgan32 or
/// dcgan64): they depend on nothing else.
std::vector<std::string> LayerNamesOf(const std::string& arch);

/// Image channels of a dataset: 1 for the grey ones, 3 for cifar10 and
/// image-folder (read as RGB).
int DatasetChannels(const std::string& dataset_name);

/// Exact bytes of one convolution's weights in the packed generator (.bsg):
/// at 32 bits raw float32; otherwise the level table (2^bits float32) and
/// one bits-wide index per weight, bit-packed.
int64_t PackedWeightBytes(int64_t weights, int bits);

}  // namespace bitsweep
