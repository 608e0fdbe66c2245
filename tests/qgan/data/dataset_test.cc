#include <stb/stb_image_write.h>
#include <zlib.h>

#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qgan/data/dataset.h"
#include "qgan/data/readers.h"
#include "tests/test_util.h"

namespace bitsweep::qgan {
namespace {

using bitsweep::testing::TempDir;
using bitsweep::testing::WriteFile;

std::string BigEndian32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// An IDX image file of n images of 28x28 whose pixel values are (i + k) % 256.
std::string IdxImages(uint32_t n) {
  std::string s = BigEndian32(0x00000803) + BigEndian32(n) + BigEndian32(28) + BigEndian32(28);
  for (uint32_t i = 0; i < n; ++i) {
    for (int k = 0; k < 28 * 28; ++k) s.push_back(static_cast<char>((i + k) % 256));
  }
  return s;
}

std::string IdxLabels(uint32_t n) {
  std::string s = BigEndian32(0x00000801) + BigEndian32(n);
  for (uint32_t i = 0; i < n; ++i) s.push_back(static_cast<char>(i % 10));
  return s;
}

void WriteGzip(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

std::string ErrorOf(const Result<torch::Tensor>& r) { return r.ok() ? "accepted" : r.status().message(); }

TEST(FashionMnistTest, ReadsTheRealFilesPaddedTo32) {
  DatasetSpec spec;
  auto data = OpenDataset(spec);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  const Dataset& d = **data;
  EXPECT_EQ(d.size(), 60000);
  EXPECT_EQ(d.channels(), 1);
  EXPECT_EQ(d.image_size(), 32);
  // Ten classes of 6000 images each.
  auto counts = torch::bincount(d.labels());
  EXPECT_EQ(counts.numel(), 10);
  EXPECT_EQ(counts.min().item<int64_t>(), 6000);

  auto batch = d.Batch(torch::arange(0, 256));
  EXPECT_EQ(batch.sizes(), (std::vector<int64_t>{256, 1, 32, 32}));
  EXPECT_GE(batch.min().item<float>(), -1.0f);
  EXPECT_LE(batch.max().item<float>(), 1.0f);
  EXPECT_GT(batch.max().item<float>(), 0.9f);                       // real content
  EXPECT_EQ(batch.narrow(3, 0, 2).max().item<float>(), -1.0f);      // padding is background
  EXPECT_GT(batch.std().item<float>(), 0.3f);

  spec.split = "test";
  spec.image_size = 64;
  auto test = OpenDataset(spec);
  ASSERT_TRUE(test.ok());
  EXPECT_EQ((*test)->size(), 10000);
  EXPECT_EQ((*test)->image_size(), 64);
}

TEST(IdxReaderTest, ReadsPlainAndGzippedFiles) {
  TempDir dir;
  WriteFile(dir.File("train-images-idx3-ubyte"), IdxImages(5));
  WriteGzip(dir.File("train-labels-idx1-ubyte.gz"), IdxLabels(5));
  auto raw = ReadIdxDataset(dir.path(), "train");
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  EXPECT_EQ(raw->images.sizes(), (std::vector<int64_t>{5, 1, 28, 28}));
  EXPECT_EQ(raw->images[3][0][0][5].item<int>(), 8);
  EXPECT_EQ(raw->labels[4].item<int64_t>(), 4);
}

TEST(IdxReaderTest, CorruptFilesNameTheFileAndTheProblem) {
  TempDir dir;
  const std::string path = dir.File("f-idx3-ubyte");
  const std::string good = IdxImages(4);

  WriteFile(path, std::string("\x00\x00\x09\x03", 4) + good.substr(4));
  EXPECT_NE(ErrorOf(ReadIdxFile(path, 3)).find(path + ": bad magic 0x00000903"), std::string::npos);

  WriteFile(path, good.substr(0, good.size() - 100));
  EXPECT_NE(ErrorOf(ReadIdxFile(path, 3)).find(path + ": truncated: data has"), std::string::npos);

  WriteFile(path, good.substr(0, 6));
  EXPECT_NE(ErrorOf(ReadIdxFile(path, 3)).find("truncated: header"), std::string::npos);

  WriteFile(path, IdxLabels(4));
  EXPECT_NE(ErrorOf(ReadIdxFile(path, 3)).find("wrong dimensions: file has 1 dimensions, expected 3"),
            std::string::npos);

  WriteFile(path, good + "extra");
  EXPECT_NE(ErrorOf(ReadIdxFile(path, 3)).find("trailing data"), std::string::npos);

  // A gzip stream cut in the middle.
  WriteGzip(path + ".gz", good);
  std::string gz = testing::ReadFile(path + ".gz");
  WriteFile(path + ".gz", gz.substr(0, gz.size() / 2));
  auto cut = ReadIdxFile(path + ".gz", 3);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.status().code(), StatusCode::kCorruption);
  EXPECT_NE(cut.status().message().find(path + ".gz"), std::string::npos);

  auto missing = ReadIdxFile(dir.File("absent"), 3);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("absent: no such file"), std::string::npos);

  // Image and label counts must agree.
  WriteFile(dir.File("t10k-images-idx3-ubyte"), IdxImages(4));
  WriteFile(dir.File("t10k-labels-idx1-ubyte"), IdxLabels(3));
  auto mismatch = ReadIdxDataset(dir.path(), "test");
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find("has 3 labels for 4 images"), std::string::npos);
}

// A CIFAR-10 batch of n records: label i % 10, red plane = i, green = 100,
// blue = pixel position % 256.
std::string CifarBatch(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    s.push_back(static_cast<char>(i % 10));
    s.append(1024, static_cast<char>(i));
    s.append(1024, static_cast<char>(100));
    for (int p = 0; p < 1024; ++p) s.push_back(static_cast<char>(p % 256));
  }
  return s;
}

TEST(Cifar10ReaderTest, ReadsBinaryBatches) {
  TempDir dir;
  std::filesystem::create_directories(dir.File("cifar-10-batches-bin"));
  for (int b = 1; b <= 5; ++b) {
    WriteFile(dir.File("cifar-10-batches-bin/data_batch_" + std::to_string(b) + ".bin"), CifarBatch(3));
  }
  WriteFile(dir.File("cifar-10-batches-bin/test_batch.bin"), CifarBatch(2));
  auto train = ReadCifar10(dir.path(), "train");
  ASSERT_TRUE(train.ok()) << train.status().ToString();
  EXPECT_EQ(train->images.sizes(), (std::vector<int64_t>{15, 3, 32, 32}));
  EXPECT_EQ(train->images[2][0][5][5].item<int>(), 2);    // red plane of record 2
  EXPECT_EQ(train->images[2][1][31][31].item<int>(), 100);  // green plane
  EXPECT_EQ(train->images[0][2][0][3].item<int>(), 3);    // blue plane, row-major
  EXPECT_EQ(train->labels[4].item<int64_t>(), 1);         // second batch, record 1

  DatasetSpec spec;
  spec.name = "cifar10";
  spec.root = dir.path();
  spec.split = "test";
  spec.image_size = 64;
  auto data = OpenDataset(spec);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ((*data)->Batch(torch::arange(2)).sizes(), (std::vector<int64_t>{2, 3, 64, 64}));
}

TEST(Cifar10ReaderTest, TruncatedAndCorruptBatchesAreReported) {
  TempDir dir;
  WriteFile(dir.File("test_batch.bin"), CifarBatch(2).substr(0, 5000));
  auto truncated = ReadCifar10(dir.path(), "test");
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.status().message().find("test_batch.bin: truncated"), std::string::npos);

  std::string bad = CifarBatch(2);
  bad[0] = 42;
  WriteFile(dir.File("test_batch.bin"), bad);
  auto labels = ReadCifar10(dir.path(), "test");
  ASSERT_FALSE(labels.ok());
  EXPECT_NE(labels.status().message().find("label 42 is outside 0..9"), std::string::npos);

  auto missing = ReadCifar10(dir.path(), "train");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("data_batch_1.bin: no such file"), std::string::npos);
}

// Writes a w x h RGB image: a left band of red and right band of blue, each
// (w - h) / 2 wide, green square in the middle.
void WriteBandedImage(const std::string& path, int w, int h, bool jpeg) {
  std::vector<unsigned char> pixels(static_cast<size_t>(w * h * 3), 0);
  int band = (w - h) / 2;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      unsigned char* p = &pixels[static_cast<size_t>((y * w + x) * 3)];
      if (x < band) p[0] = 255;
      else if (x >= w - band) p[2] = 255;
      else p[1] = 255;
    }
  }
  if (jpeg) {
    stbi_write_jpg(path.c_str(), w, h, 3, pixels.data(), 95);
  } else {
    stbi_write_png(path.c_str(), w, h, 3, pixels.data(), w * 3);
  }
}

TEST(ImageFolderTest, CentreCropsAndResizesJpegAndPng) {
  TempDir dir;
  std::filesystem::create_directories(dir.File("sub"));
  WriteBandedImage(dir.File("a.png"), 60, 40, false);
  WriteBandedImage(dir.File("sub/b.JPG"), 90, 50, true);
  WriteFile(dir.File("notes.txt"), "not an image");
  auto raw = ReadImageFolder(dir.path(), 32, 0);
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  EXPECT_EQ(raw->images.sizes(), (std::vector<int64_t>{2, 3, 32, 32}));
  // The bands are cropped away: what is left is green.
  auto mean = raw->images.to(torch::kFloat32).mean({0, 2, 3});
  EXPECT_LT(mean[0].item<float>(), 10.0f);
  EXPECT_GT(mean[1].item<float>(), 240.0f);
  EXPECT_LT(mean[2].item<float>(), 10.0f);

  auto limited = ReadImageFolder(dir.path(), 32, 1);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->images.size(0), 1);
}

TEST(ImageFolderTest, UndecodableFilesAndEmptyFoldersAreReported) {
  TempDir dir;
  auto empty = ReadImageFolder(dir.path(), 32, 0);
  EXPECT_EQ(empty.status().code(), StatusCode::kNotFound);
  EXPECT_NE(empty.status().message().find("no .jpg, .jpeg or .png files"), std::string::npos);

  WriteBandedImage(dir.File("a.png"), 40, 40, false);
  WriteFile(dir.File("b.jpg"), "\xff\xd8\xff garbage that is not a jpeg");
  auto bad = ReadImageFolder(dir.path(), 32, 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kCorruption);
  EXPECT_NE(bad.status().message().find("b.jpg: cannot decode image"), std::string::npos);

  auto absent = ReadImageFolder(dir.File("nowhere"), 32, 0);
  EXPECT_EQ(absent.status().code(), StatusCode::kNotFound);
}

TEST(DatasetTest, MissingDatasetFolderIsNamed) {
  DatasetSpec spec;
  spec.root = "/nonexistent/fmnist";
  auto data = OpenDataset(spec);
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().message(), "/nonexistent/fmnist: dataset folder does not exist");
}

}  // namespace
}  // namespace bitsweep::qgan
