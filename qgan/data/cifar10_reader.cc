// CIFAR-10 "binary version" batches: 10000 records of 3073 bytes each
// (label, then 1024 red, 1024 green, 1024 blue pixels, row-major 32x32).
#include <filesystem>
#include <fstream>
#include <vector>

#include <torch/torch.h>

#include "qgan/data/readers.h"

namespace bitsweep::qgan {
namespace {

constexpr int64_t kRecordBytes = 1 + 3 * 32 * 32;

Status ReadBatch(const std::string& path, std::vector<torch::Tensor>* images, std::vector<torch::Tensor>* labels) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return Status::NotFound(path + ": no such file");
  if (size == 0 || size % kRecordBytes != 0) {
    return Status::Corruption(path + ": truncated or not a CIFAR-10 batch: " + std::to_string(size) +
                              " bytes is not a multiple of the 3073-byte record");
  }
  const int64_t n = static_cast<int64_t>(size) / kRecordBytes;
  auto bytes = torch::empty({n, kRecordBytes}, torch::kUInt8);
  std::ifstream in(path, std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(bytes.data_ptr<uint8_t>()), static_cast<std::streamsize>(size))) {
    return Status::IoError(path + ": read failed");
  }
  auto label = bytes.select(1, 0).to(torch::kInt64);
  if (label.max().item<int64_t>() > 9) {
    return Status::Corruption(path + ": label " + std::to_string(label.max().item<int64_t>()) +
                              " is outside 0..9 (not a CIFAR-10 batch?)");
  }
  labels->push_back(label);
  images->push_back(bytes.narrow(1, 1, kRecordBytes - 1).reshape({n, 3, 32, 32}));
  return Status::Ok();
}

}  // namespace

Result<RawImages> ReadCifar10(const std::string& root, const std::string& split) {
  std::filesystem::path dir(root);
  if (std::filesystem::is_directory(dir / "cifar-10-batches-bin")) dir /= "cifar-10-batches-bin";
  if (!std::filesystem::is_directory(dir)) return Status::NotFound(root + ": dataset folder does not exist");
  std::vector<std::string> files;
  if (split == "test") {
    files.push_back((dir / "test_batch.bin").string());
  } else {
    for (int i = 1; i <= 5; ++i) files.push_back((dir / ("data_batch_" + std::to_string(i) + ".bin")).string());
  }
  std::vector<torch::Tensor> images;
  std::vector<torch::Tensor> labels;
  for (const auto& file : files) BITSWEEP_RETURN_IF_ERROR(ReadBatch(file, &images, &labels));
  return RawImages{torch::cat(images), torch::cat(labels)};
}

}  // namespace bitsweep::qgan
