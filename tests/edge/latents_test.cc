// The runtime's latent generator (documented, so other runtimes can
// reproduce it) and the .npy files latents travel in.
#include "edge/latents.h"
#include "edge/npy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>

namespace bitsweep::edge {
namespace {

std::string TempPath(const std::string& name) { return ::testing::TempDir() + "edge-latents-" + name; }

TEST(LatentsTest, TheDocumentedGeneratorStepByStep) {
  // SplitMix64 from seed 1, two words, Box-Muller (edge/latents.h), by hand.
  uint64_t state = 1;
  auto next = [&state] {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  const double u1 = static_cast<double>(next() >> 11) * 0x1.0p-53;
  const double u2 = static_cast<double>(next() >> 11) * 0x1.0p-53;
  const double r = std::sqrt(-2.0 * std::log(1.0 - u1));
  float z[3];
  DrawLatents(1, 1, 3, z);
  EXPECT_EQ(z[0], static_cast<float>(r * std::cos(2 * M_PI * u2)));
  EXPECT_EQ(z[1], static_cast<float>(r * std::sin(2 * M_PI * u2)));
}

TEST(LatentsTest, StandardNormalAndSeeded) {
  const int n = 2000, nz = 100;
  std::vector<float> a(n * nz), b(n * nz), c(n * nz);
  DrawLatents(42, n, nz, a.data());
  DrawLatents(42, n, nz, b.data());
  DrawLatents(43, n, nz, c.data());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  double sum = 0, sq = 0;
  for (float v : a) {
    sum += v;
    sq += double{v} * v;
  }
  const double mean = sum / a.size(), var = sq / a.size() - mean * mean;
  // 200,000 draws: the mean's standard error is 0.0022, the variance's 0.0032.
  EXPECT_NEAR(mean, 0.0, 0.01);
  EXPECT_NEAR(var, 1.0, 0.015);
  // A batch's first rows are the latents of a smaller batch (row order).
  std::vector<float> small(5 * nz);
  DrawLatents(42, 5, nz, small.data());
  EXPECT_EQ(small, std::vector<float>(a.begin(), a.begin() + 5 * nz));
}

TEST(LatentsTest, NpyRoundTripAndNumpysFloat64) {
  const std::vector<float> values = {1.5f, -2.0f, 3.25f, 0.0f, 1e-7f, -1e7f};
  ASSERT_TRUE(WriteNpy(TempPath("z.npy"), {2, 3}, values.data()).ok());
  NpyArray read;
  Status s = ReadNpy(TempPath("z.npy"), &read);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(read.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(read.values, values);
  // What numpy.save(np.random.randn(1, 2)) writes: float64, version 1.0.
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }";
  header.append(128 - 10 - header.size() - 1, ' ');
  header += '\n';
  std::string file("\x93NUMPY\x01\x00", 8);
  file += static_cast<char>(header.size());
  file += '\0';
  file += header;
  const double d[2] = {0.5, -1.25};
  file.append(reinterpret_cast<const char*>(d), sizeof d);
  s = ParseNpy(reinterpret_cast<const uint8_t*>(file.data()), file.size(), "np.npy", &read);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(read.values, (std::vector<float>{0.5f, -1.25f}));
  std::remove(TempPath("z.npy").c_str());
}

TEST(LatentsTest, NpyErrorsNameTheFileAndTheProblem) {
  auto error = [](std::string file) {
    NpyArray a;
    Status s = ParseNpy(reinterpret_cast<const uint8_t*>(file.data()), file.size(), "z.npy", &a);
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.message().rfind("z.npy: ", 0), 0u) << s.message();
    return s.message();
  };
  auto npy = [](const std::string& dict, size_t data_bytes) {
    std::string file("\x93NUMPY\x01\x00", 8);
    file += static_cast<char>(dict.size());
    file += '\0';
    return file + dict + std::string(data_bytes, '\0');
  };
  EXPECT_NE(error("PK\x03\x04").find("bad magic"), std::string::npos);
  EXPECT_NE(error(npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", 8)).find("dtype"), std::string::npos);
  EXPECT_NE(error(npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", 8)).find("Fortran"), std::string::npos);
  EXPECT_NE(error(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 8)).find("needs 24"),
            std::string::npos);
  EXPECT_NE(error(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }", 8))
                .find("larger than"),
            std::string::npos);
  EXPECT_NE(error(npy("{'descr': '<f4', 'shape': (2,), }", 8)).find("lacks"), std::string::npos);
  NpyArray a;
  EXPECT_EQ(ReadNpy(TempPath("none.npy"), &a).code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace bitsweep::edge
