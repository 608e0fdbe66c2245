#include "qgan/export/image_grid.h"

#include <stb/stb_image_write.h>

#include <cmath>

#include <torch/torch.h>

namespace bitsweep::qgan {

Status WriteImageGrid(const torch::Tensor& images, const std::string& path, int padding) {
  if (images.dim() != 4 || (images.size(1) != 1 && images.size(1) != 3) || images.size(0) == 0) {
    return Status::InvalidArgument("image grid needs [N, 1 or 3, H, W] images, got " +
                                   std::string(images.sizes().vec().empty() ? "a scalar" : "shape of rank " +
                                                                                          std::to_string(images.dim())));
  }
  const int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  const int64_t cols = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(n))));
  const int64_t rows = (n + cols - 1) / cols;
  const int64_t grid_h = rows * h + (rows + 1) * padding;
  const int64_t grid_w = cols * w + (cols + 1) * padding;

  auto pixels = ((images.detach().to(torch::kCPU).to(torch::kFloat32) + 1.0) * 127.5)
                    .round_()
                    .clamp_(0, 255)
                    .to(torch::kUInt8)
                    .permute({0, 2, 3, 1})  // NHWC
                    .contiguous();
  auto grid = torch::zeros({grid_h, grid_w, c}, torch::kUInt8);
  for (int64_t i = 0; i < n; ++i) {
    int64_t y = (i / cols) * (h + padding) + padding;
    int64_t x = (i % cols) * (w + padding) + padding;
    grid.narrow(0, y, h).narrow(1, x, w).copy_(pixels[i]);
  }
  if (!stbi_write_png(path.c_str(), static_cast<int>(grid_w), static_cast<int>(grid_h), static_cast<int>(c),
                      grid.data_ptr<uint8_t>(), static_cast<int>(grid_w * c))) {
    return Status::IoError(path + ": cannot write PNG");
  }
  return Status::Ok();
}

}  // namespace bitsweep::qgan
