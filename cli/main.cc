// `bitsweep`: parses flags into option structs and hands over to the
// subcommands in cli/commands.h.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  using namespace bitsweep::cli;
  CLI::App app{"bitsweep: how few bits can a GAN live with? Quantized GAN training and bit-width sweeps."};
  app.require_subcommand(1);

  TrainCommandOptions train;
  auto* train_cmd = app.add_subcommand("train", "Train one quantized GAN job from a job spec");
  train_cmd->add_option("--spec", train.spec_path, "Job spec (JSON)")->required()->check(CLI::ExistingFile);
  train_cmd->add_option("--out", train.out_dir, "Output folder (result.json, samples.png, generator.bsg, checkpoint.pt)")
      ->required();
  train_cmd->add_option("--threads", train.threads, "Intra-op threads (0 = all cores; overrides runtime.threads)");
  train_cmd->add_option("--device", train.device, "auto, cpu, cuda or cuda:N (overrides runtime.device)");
  train_cmd->add_option("--iterations", train.iterations, "Overrides train.iterations");
  train_cmd->add_flag("--fresh", train.fresh, "Ignore an existing checkpoint in --out and start from step 0");
  train_cmd->add_flag("--quiet", train.quiet, "No progress line");

  SampleCommandOptions sample;
  auto* sample_cmd = app.add_subcommand("sample", "Draw an image grid from a packed generator file");
  sample_cmd->add_option("--model", sample.model_path, "Packed generator (generator.bsg)")
      ->required()
      ->check(CLI::ExistingFile);
  sample_cmd->add_option("-n,--count", sample.count, "Number of images")->check(CLI::Range(1, 4096));
  sample_cmd->add_option("--seed", sample.seed, "Noise seed");
  sample_cmd->add_option("-o,--out", sample.out_png, "Output PNG");

  EvaluatorTrainOptions evaluator;
  auto* evaluator_cmd = app.add_subcommand("evaluator", "Evaluators for sample quality");
  evaluator_cmd->require_subcommand(1);
  auto* evaluator_train = evaluator_cmd->add_subcommand(
      "train", "Train the domain classifier evaluator for grey 28/32 px data (FID/IS/KID features)");
  evaluator_train->add_option("--dataset", evaluator.dataset, "fashion-mnist or mnist")
      ->check(CLI::IsMember({"fashion-mnist", "mnist"}));
  evaluator_train->add_option("--root", evaluator.root, "Dataset folder (default: the dataset's)");
  evaluator_train->add_option("--out", evaluator.out_path, "Where to save the classifier")->required();
  evaluator_train->add_option("--epochs", evaluator.epochs, "Training epochs")->check(CLI::Range(1, 100));
  evaluator_train->add_option("--seed", evaluator.seed, "Seed (training is deterministic given it)");
  evaluator_train->add_option("--threads", evaluator.threads, "Threads (0 = all cores)");

  MetricsCommandOptions metrics;
  auto* metrics_cmd = app.add_subcommand("metrics", "FID, IS or KID of feature/probability matrices in .npy files");
  metrics_cmd->add_option("metric", metrics.metric, "fid, is or kid")->required()->check(CLI::IsMember({"fid", "is", "kid"}));
  metrics_cmd->add_option("--real", metrics.real_path, "Real features (N x d .npy; fid, kid)");
  metrics_cmd->add_option("--fake", metrics.fake_path, "Generated features (N x d .npy; fid, kid)");
  metrics_cmd->add_option("--probs", metrics.probabilities_path, "Class probabilities (N x K .npy; is)");
  metrics_cmd->add_option("--splits", metrics.splits, "IS splits")->check(CLI::Range(1, 1000));
  metrics_cmd->add_option("--subsets", metrics.subsets, "KID subsets")->check(CLI::Range(1, 100000));
  metrics_cmd->add_option("--subset-size", metrics.subset_size, "KID subset size")->check(CLI::Range(2, 1000000));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 prints the message; map its many codes onto ours (0 for --help).
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  if (evaluator_train->parsed()) return RunEvaluatorTrainCommand(evaluator);
  if (metrics_cmd->parsed()) return RunMetricsCommand(metrics);
  if (train_cmd->parsed()) return RunTrainCommand(train);
  if (sample_cmd->parsed()) return RunSampleCommand(sample);
  return kExitUsage;
}
