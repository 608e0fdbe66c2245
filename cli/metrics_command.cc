#include <cstdio>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "cli/commands.h"
#include "qgan/metrics/fid.h"
#include "qgan/metrics/inception_score.h"
#include "qgan/metrics/kid.h"
#include "qgan/metrics/npy.h"

namespace bitsweep::cli {
namespace {

Result<torch::Tensor> Read(const std::string& flag, const std::string& path) {
  if (path.empty()) return Status::InvalidArgument(flag + " is required");
  return qgan::ReadNpyMatrix(path);
}

Result<nlohmann::json> Compute(const MetricsCommandOptions& o) {
  if (o.metric == "is") {
    BITSWEEP_ASSIGN_OR_RETURN(torch::Tensor p, Read("--probs", o.probabilities_path));
    qgan::ScoreWithSpread is = qgan::InceptionScore(p, o.splits);
    return nlohmann::json{{"is", is.mean}, {"is_std", is.std}, {"n", p.size(0)}};
  }
  BITSWEEP_ASSIGN_OR_RETURN(torch::Tensor real, Read("--real", o.real_path));
  BITSWEEP_ASSIGN_OR_RETURN(torch::Tensor fake, Read("--fake", o.fake_path));
  if (real.size(1) != fake.size(1)) {
    return Status::InvalidArgument("--real has " + std::to_string(real.size(1)) + " features per row, --fake has " +
                                   std::to_string(fake.size(1)));
  }
  if (o.metric == "fid") {
    if (real.size(0) < 2 || fake.size(0) < 2) return Status::InvalidArgument("FID needs at least 2 rows per set");
    double fid = qgan::FrechetDistance(qgan::ComputeStats(real), qgan::ComputeStats(fake));
    return nlohmann::json{{"fid", fid}, {"n_real", real.size(0)}, {"n_fake", fake.size(0)}};
  }
  if (std::min(real.size(0), fake.size(0)) < 2) return Status::InvalidArgument("KID needs at least 2 rows per set");
  qgan::ScoreWithSpread kid = qgan::KernelInceptionDistance(real, fake, o.subsets, o.subset_size);
  return nlohmann::json{{"kid", kid.mean}, {"kid_std", kid.std}, {"n_real", real.size(0)}, {"n_fake", fake.size(0)}};
}

}  // namespace

int RunMetricsCommand(const MetricsCommandOptions& options) {
  auto result = Compute(options);
  if (!result.ok()) {
    std::fprintf(stderr, "error: %s\n", result.status().message().c_str());
    return result.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  std::printf("%s\n", result->dump().c_str());
  return kExitOk;
}

}  // namespace bitsweep::cli
