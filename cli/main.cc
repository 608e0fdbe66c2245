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

  CLI11_PARSE(app, argc, argv);
  if (train_cmd->parsed()) return RunTrainCommand(train);
  if (sample_cmd->parsed()) return RunSampleCommand(sample);
  return kExitUsage;
}
