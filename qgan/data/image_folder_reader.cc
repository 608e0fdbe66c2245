// A folder of JPEG/PNG files (CelebA's aligned images, or any photo set),
// decoded with stb_image, centre-cropped to a square and resized.
#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "qgan/data/readers.h"

namespace bitsweep::qgan {
namespace {

bool IsImageFile(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

struct StbFree {
  void operator()(unsigned char* p) const { stbi_image_free(p); }
};

// Decodes one file into `out` (size x size x 3, interleaved RGB).
Status LoadSquare(const std::string& path, int size, unsigned char* out) {
  int w = 0, h = 0, channels = 0;
  std::unique_ptr<unsigned char, StbFree> pixels(stbi_load(path.c_str(), &w, &h, &channels, 3));
  if (!pixels) return Status::Corruption(path + ": cannot decode image: " + stbi_failure_reason());
  int side = std::min(w, h);
  int x0 = (w - side) / 2;
  int y0 = (h - side) / 2;
  const unsigned char* crop = pixels.get() + (static_cast<size_t>(y0) * w + x0) * 3;
  if (!stbir_resize_uint8(crop, side, side, w * 3, out, size, size, size * 3, 3)) {
    return Status::Internal(path + ": resize failed");
  }
  return Status::Ok();
}

}  // namespace

Result<RawImages> ReadImageFolder(const std::string& root, int size, int64_t limit) {
  if (!std::filesystem::is_directory(root)) return Status::NotFound(root + ": image folder does not exist");
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (entry.is_regular_file() && IsImageFile(entry.path())) files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  if (limit > 0 && static_cast<int64_t>(files.size()) > limit) files.resize(static_cast<size_t>(limit));
  if (files.empty()) return Status::NotFound(root + ": no .jpg, .jpeg or .png files");

  const int64_t n = static_cast<int64_t>(files.size());
  auto hwc = torch::empty({n, size, size, 3}, torch::kUInt8);
  for (int64_t i = 0; i < n; ++i) {
    BITSWEEP_RETURN_IF_ERROR(LoadSquare(files[static_cast<size_t>(i)], size, hwc[i].data_ptr<uint8_t>()));
  }
  return RawImages{hwc.permute({0, 3, 1, 2}).contiguous(), torch::Tensor()};
}

}  // namespace bitsweep::qgan
