// MNIST-format (IDX) files: a big-endian header (magic 0x0000 08 <ndims>,
// then one uint32 per dimension) followed by uint8 data. zlib reads gzipped
// and plain files alike.
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "qgan/data/readers.h"

namespace bitsweep::qgan {
namespace {

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// The most data bytes an IDX file may declare (16 GiB).
constexpr int64_t kMaxDataBytes = int64_t{1} << 34;

// Reads until `*done` reaches `size` bytes (fewer only at the end of the
// file), or says why it cannot.
Status ReadUpTo(gzFile file, const std::string& path, unsigned char* out, size_t size, size_t* done,
                const char* what) {
  while (*done < size) {
    unsigned chunk = static_cast<unsigned>(std::min<size_t>(size - *done, 1u << 30));
    int n = gzread(file, out + *done, chunk);
    if (n < 0) {
      int code = 0;
      const char* message = gzerror(file, &code);
      return Status::Corruption(path + ": cannot decompress " + what + ": " + message);
    }
    if (n == 0) break;
    *done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status Truncated(const std::string& path, const char* what, size_t done, size_t size) {
  return Status::Corruption(path + ": truncated: " + what + " has " + std::to_string(done) + " of " +
                            std::to_string(size) + " bytes");
}

// Reads exactly `size` bytes or says why not.
Status ReadExactly(gzFile file, const std::string& path, void* out, size_t size, const char* what) {
  size_t done = 0;
  BITSWEEP_RETURN_IF_ERROR(ReadUpTo(file, path, static_cast<unsigned char*>(out), size, &done, what));
  return done == size ? Status::Ok() : Truncated(path, what, done, size);
}

// Reads the `size` data bytes the header declares. The size is only a
// claim: the buffer grows with the bytes actually read, so a short or
// hostile file costs memory in proportion to what it holds.
Status ReadData(gzFile file, const std::string& path, size_t size, std::vector<unsigned char>* data) {
  constexpr size_t kFirstChunk = size_t{1} << 16;
  size_t done = 0;
  while (done < size) {
    data->resize(std::min(size, std::max(kFirstChunk, 2 * data->size())));
    BITSWEEP_RETURN_IF_ERROR(ReadUpTo(file, path, data->data(), data->size(), &done, "data"));
    if (done < data->size()) return Truncated(path, "data", done, size);
  }
  return Status::Ok();
}

uint32_t BigEndian(const unsigned char* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

std::string FindIdxFile(const std::string& root, const std::string& stem) {
  for (const char* suffix : {".gz", ""}) {
    std::string path = (std::filesystem::path(root) / (stem + suffix)).string();
    if (std::filesystem::exists(path)) return path;
  }
  return (std::filesystem::path(root) / (stem + ".gz")).string();
}

}  // namespace

Result<torch::Tensor> ReadIdxFile(const std::string& path, int expected_dims) {
  if (!std::filesystem::exists(path)) return Status::NotFound(path + ": no such file");
  GzFile file(gzopen(path.c_str(), "rb"));
  if (!file) return Status::IoError(path + ": cannot open");

  unsigned char magic[4];
  BITSWEEP_RETURN_IF_ERROR(ReadExactly(file.get(), path, magic, 4, "header"));
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08) {
    char text[32];
    std::snprintf(text, sizeof(text), "%02x%02x%02x%02x", magic[0], magic[1], magic[2], magic[3]);
    return Status::Corruption(path + ": bad magic 0x" + text + " (expected 0x000008" +
                              (expected_dims == 1 ? "01" : "03") + ", an IDX file of unsigned bytes)");
  }
  if (magic[3] != expected_dims) {
    return Status::Corruption(path + ": wrong dimensions: file has " + std::to_string(magic[3]) +
                              " dimensions, expected " + std::to_string(expected_dims));
  }
  std::vector<int64_t> shape;
  int64_t count = 1;
  for (int d = 0; d < expected_dims; ++d) {
    unsigned char dim[4];
    BITSWEEP_RETURN_IF_ERROR(ReadExactly(file.get(), path, dim, 4, "header"));
    int64_t n = BigEndian(dim);
    if (n == 0 || n > (int64_t{1} << 31)) {
      return Status::Corruption(path + ": dimension " + std::to_string(d) + " has implausible size " +
                                std::to_string(n));
    }
    shape.push_back(n);
    // Checked before multiplying, so that the count cannot overflow.
    if (count > kMaxDataBytes / n) {
      return Status::Corruption(path + ": header claims more than " + std::to_string(kMaxDataBytes) + " bytes");
    }
    count *= n;
  }
  std::vector<unsigned char> bytes;
  BITSWEEP_RETURN_IF_ERROR(ReadData(file.get(), path, static_cast<size_t>(count), &bytes));
  unsigned char extra;
  if (gzread(file.get(), &extra, 1) > 0) {
    return Status::Corruption(path + ": trailing data after the " + std::to_string(count) + " bytes the header declares");
  }
  auto data = torch::empty(shape, torch::kUInt8);
  std::memcpy(data.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  return data;
}

Result<RawImages> ReadIdxDataset(const std::string& root, const std::string& split) {
  if (!std::filesystem::is_directory(root)) return Status::NotFound(root + ": dataset folder does not exist");
  std::string prefix = split == "test" ? "t10k" : "train";
  std::string images_path = FindIdxFile(root, prefix + "-images-idx3-ubyte");
  std::string labels_path = FindIdxFile(root, prefix + "-labels-idx1-ubyte");
  RawImages raw;
  BITSWEEP_ASSIGN_OR_RETURN(torch::Tensor images, ReadIdxFile(images_path, 3));
  BITSWEEP_ASSIGN_OR_RETURN(torch::Tensor labels, ReadIdxFile(labels_path, 1));
  if (images.size(0) != labels.size(0)) {
    return Status::Corruption(labels_path + ": has " + std::to_string(labels.size(0)) + " labels for " +
                              std::to_string(images.size(0)) + " images in " + images_path);
  }
  raw.images = images.unsqueeze(1);
  raw.labels = labels.to(torch::kInt64);
  return raw;
}

}  // namespace bitsweep::qgan
