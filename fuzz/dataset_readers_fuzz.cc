// Fuzzes the dataset readers (IDX, CIFAR-10 batches, a folder of images):
// datasets are downloaded files a worker reads before training, so a
// truncated or hostile one must give an error naming it, never a crash, a
// hang or an allocation its header merely claims.
//
// Input layout: the first byte chooses options (bit 0: write the IDX file
// gzip-compressed, as the reader also accepts .gz), the rest is the file.
// Every reader sees the same bytes; the seeds are valid files of each kind.
#include <stb/stb_image.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>

#include <torch/types.h>

#include "fuzz/fuzz_util.h"
#include "qgan/data/readers.h"

namespace bitsweep::fuzz {
namespace {

struct Paths {
  std::string idx_plain, idx_gzipped, cifar_root, image_root;
};

const Paths& ScratchPaths() {
  static const Paths paths = [] {
    Paths p;
    const std::string& root = ScratchDir();
    p.idx_plain = root + "/data-idx-ubyte";
    p.idx_gzipped = root + "/data-idx-ubyte.gz";
    p.cifar_root = root + "/cifar";
    p.image_root = root + "/images";
    std::filesystem::create_directories(p.cifar_root);
    std::filesystem::create_directories(p.image_root);
    return p;
  }();
  return paths;
}

void WriteGzipped(const std::string& path, const uint8_t* data, size_t size) {
  gzFile file = gzopen(path.c_str(), "wb");
  Require(file != nullptr, "cannot create " + path);
  const bool written = size == 0 || gzwrite(file, data, static_cast<unsigned>(size)) == static_cast<int>(size);
  Require(gzclose(file) == Z_OK && written, "cannot write " + path);
}

template <typename T>
void RequireNamedError(const Result<T>& result, const std::string& name) {
  Require(Mentions(result.status().message(), name), "the error does not name " + name + ": " +
                                                         result.status().message());
}

void CheckIdx(const std::string& path) {
  for (int dims : {3, 1}) {
    auto tensor = qgan::ReadIdxFile(path, dims);
    if (!tensor.ok()) {
      RequireNamedError(tensor, path);
      continue;
    }
    Require(tensor->dim() == dims && tensor->scalar_type() == torch::kUInt8, "IDX tensor of the wrong shape");
  }
}

void CheckCifar(const uint8_t* data, size_t size) {
  const Paths& paths = ScratchPaths();
  WriteFile(paths.cifar_root + "/test_batch.bin", data, size);
  auto cifar = qgan::ReadCifar10(paths.cifar_root, "test");
  if (!cifar.ok()) {
    RequireNamedError(cifar, paths.cifar_root);
    return;
  }
  const auto& images = cifar->images;
  Require(images.dim() == 4 && images.size(1) == 3 && images.size(2) == 32 && images.size(3) == 32 &&
              cifar->labels.size(0) == images.size(0),
          "CIFAR-10 images of the wrong shape");
}

// Whether an image declares more pixels than are worth decoding here, but
// not so many that the reader refuses it (above 2^26): a JPEG of a few
// hundred bytes can declare 8000 x 8000 pixels, which stb decodes in full,
// legitimately, in tens of seconds under the sanitizers.
bool SlowToDecode(const uint8_t* data, size_t size) {
  int w = 0, h = 0, channels = 0;
  if (!stbi_info_from_memory(data, static_cast<int>(size), &w, &h, &channels)) return false;
  const int64_t pixels = int64_t{w} * h;
  return pixels > (int64_t{1} << 20) && pixels <= (int64_t{1} << 26);
}

void CheckImageFolder(const uint8_t* data, size_t size) {
  if (SlowToDecode(data, size)) return;
  const Paths& paths = ScratchPaths();
  WriteFile(paths.image_root + "/image.png", data, size);
  auto folder = qgan::ReadImageFolder(paths.image_root, 32, 4);
  if (!folder.ok()) {
    RequireNamedError(folder, paths.image_root);
    return;
  }
  const auto& images = folder->images;
  Require(images.dim() == 4 && images.size(0) == 1 && images.size(1) == 3 && images.size(2) == 32 &&
              images.size(3) == 32,
          "decoded image of the wrong shape");
}

}  // namespace
}  // namespace bitsweep::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bitsweep::fuzz;
  if (size == 0) return 0;
  const bool gzipped = (data[0] & 1) != 0;
  const uint8_t* file = data + 1;
  const size_t file_size = size - 1;

  const Paths& paths = ScratchPaths();
  const std::string& idx_path = gzipped ? paths.idx_gzipped : paths.idx_plain;
  if (gzipped) {
    WriteGzipped(idx_path, file, file_size);
  } else {
    WriteFile(idx_path, file, file_size);
  }
  CheckIdx(idx_path);
  CheckCifar(file, file_size);
  CheckImageFolder(file, file_size);
  return 0;
}
