#include "qgan/data/dataset.h"

#include <torch/torch.h>

#include "qgan/data/readers.h"

namespace bitsweep::qgan {

InMemoryDataset::InMemoryDataset(torch::Tensor images, torch::Tensor labels, std::string description)
    : images_(std::move(images)), labels_(std::move(labels)), description_(std::move(description)) {}

torch::Tensor InMemoryDataset::Batch(const torch::Tensor& indices) const {
  return ToUnitRange(images_.index_select(0, indices));
}

torch::Tensor ToUnitRange(const torch::Tensor& images_uint8) {
  return images_uint8.to(torch::kFloat32).div_(127.5).sub_(1.0);
}

torch::Tensor ToSquareSize(const torch::Tensor& images, int size) {
  const int64_t h = images.size(2);
  const int64_t w = images.size(3);
  if (h == size && w == size) return images;
  if (h == 28 && w == 28 && size == 32) {
    return torch::constant_pad_nd(images, {2, 2, 2, 2}, 0);
  }
  auto resized = torch::upsample_bilinear2d(images.to(torch::kFloat32), {size, size}, /*align_corners=*/false);
  return resized.round_().clamp_(0, 255).to(torch::kUInt8);
}

Result<std::unique_ptr<Dataset>> OpenDataset(const DatasetSpec& spec) {
  RawImages raw;
  if (spec.name == "fashion-mnist" || spec.name == "mnist") {
    BITSWEEP_ASSIGN_OR_RETURN(raw, ReadIdxDataset(spec.root, spec.split));
  } else if (spec.name == "cifar10") {
    BITSWEEP_ASSIGN_OR_RETURN(raw, ReadCifar10(spec.root, spec.split));
  } else if (spec.name == "image-folder") {
    BITSWEEP_ASSIGN_OR_RETURN(raw, ReadImageFolder(spec.root, spec.image_size, spec.limit));
  } else {
    return Status::InvalidArgument("dataset.name: unknown dataset \"" + spec.name + "\"");
  }
  torch::Tensor images = raw.images;
  torch::Tensor labels = raw.labels;
  if (spec.limit > 0 && spec.limit < images.size(0)) {
    images = images.narrow(0, 0, spec.limit);
    if (labels.defined()) labels = labels.narrow(0, 0, spec.limit);
  }
  images = ToSquareSize(images, spec.image_size).contiguous();
  std::string description = spec.name + " " + spec.split + " (" + std::to_string(images.size(0)) + " images, " +
                            std::to_string(spec.image_size) + "x" + std::to_string(spec.image_size) + ")";
  return std::unique_ptr<Dataset>(new InMemoryDataset(images, labels, description));
}

}  // namespace bitsweep::qgan
