// Datasets of images for GAN training: every reader produces uint8 images
// [N, C, H, W] resized to the training size; batches come out as floats in
// [-1, 1], the range of the generator's tanh output.
#pragma once

#include <memory>
#include <string>

#include <torch/types.h>

#include "common/job_spec.h"
#include "common/status.h"

namespace bitsweep::qgan {

class Dataset {
 public:
  virtual ~Dataset() = default;

  virtual int64_t size() const = 0;
  virtual int channels() const = 0;
  virtual int image_size() const = 0;

  /// Images at `indices` (int64 [B]) as float [B, C, S, S] in [-1, 1].
  virtual torch::Tensor Batch(const torch::Tensor& indices) const = 0;

  /// Class labels [N] (int64), or an undefined tensor when there are none.
  virtual torch::Tensor labels() const = 0;

  /// What the data is, for reports ("fashion-mnist train (60000 images)").
  virtual std::string description() const = 0;
};

/// A dataset held in memory as uint8 images.
class InMemoryDataset : public Dataset {
 public:
  /// `images`: uint8 [N, C, S, S]; `labels`: int64 [N] or undefined.
  InMemoryDataset(torch::Tensor images, torch::Tensor labels, std::string description);

  int64_t size() const override { return images_.size(0); }
  int channels() const override { return static_cast<int>(images_.size(1)); }
  int image_size() const override { return static_cast<int>(images_.size(2)); }
  torch::Tensor Batch(const torch::Tensor& indices) const override;
  torch::Tensor labels() const override { return labels_; }
  std::string description() const override { return description_; }

  const torch::Tensor& images() const { return images_; }

 private:
  torch::Tensor images_;
  torch::Tensor labels_;
  std::string description_;
};

/// Opens the dataset a job spec names, resized to spec.image_size. Missing
/// or corrupt files give an error naming the file and the problem.
Result<std::unique_ptr<Dataset>> OpenDataset(const DatasetSpec& spec);

/// Brings uint8 [N, C, H, W] images to [N, C, size, size]: 28x28 digits and
/// clothes are padded with background to 32x32 (they are centred in a 20x20
/// box, so no content is lost), every other change of size is a bilinear
/// resize of the square image.
torch::Tensor ToSquareSize(const torch::Tensor& images, int size);

/// Converts uint8 images to float in [-1, 1].
torch::Tensor ToUnitRange(const torch::Tensor& images_uint8);

}  // namespace bitsweep::qgan
