// `bitsweep`: parses flags into option structs and hands over to the
// subcommands in cli/commands.h.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "common/version.h"
#ifdef BITSWEEP_WITH_SERVICE
#include "cli/client.h"
#include "cli/service_commands.h"
#endif

#ifdef BITSWEEP_WITH_SERVICE
namespace {
// What every command that calls a coordinator takes: its address and how to
// reach it securely (also from the environment, for containers).
void AddClientOptions(CLI::App* command, std::string* coordinator) {
  using bitsweep::cli::GlobalClientSecurity;
  auto& security = GlobalClientSecurity();
  command->add_option("--coordinator", *coordinator, "Coordinator host:port (default: localhost:50051)")
      ->envname("BITSWEEP_COORDINATOR");
  command->add_option("--tls-ca", security.tls.ca, "PEM CA that signed the coordinator's certificate (turns TLS on)")
      ->envname("BITSWEEP_TLS_CA");
  command->add_option("--tls-cert", security.tls.cert, "Client PEM certificate, when the coordinator asks for one")
      ->envname("BITSWEEP_TLS_CERT");
  command->add_option("--tls-key", security.tls.key, "PEM private key of --tls-cert")->envname("BITSWEEP_TLS_KEY");
  command->add_option("--token-file", security.token_file, "File holding the coordinator's shared token")
      ->envname("BITSWEEP_TOKEN_FILE");
}
}  // namespace
#endif

int main(int argc, char** argv) {
  using namespace bitsweep::cli;
  CLI::App app{"bitsweep: how few bits can a GAN live with? Quantized GAN training and bit-width sweeps."};
  app.set_version_flag("--version", std::string("bitsweep ") + bitsweep::kVersion);
  app.require_subcommand(1);

  TrainCommandOptions train;
  auto* train_cmd = app.add_subcommand("train", "Train one quantized GAN job from a job spec");
  train_cmd->add_option("--spec", train.spec_path, "Job spec (JSON)")->required()->check(CLI::ExistingFile);
  train_cmd->add_option("--out", train.out_dir, "Output folder (result.json, samples.png, generator.bsg, checkpoint.pt)")
      ->required();
  train_cmd->add_option("--threads", train.threads, "Intra-op threads (0 = all cores; overrides runtime.threads)");
  train_cmd->add_option("--device", train.device, "auto, cpu, cuda or cuda:N (overrides runtime.device)");
  train_cmd->add_option("--iterations", train.iterations, "Overrides train.iterations");
  train_cmd->add_option("--seed", train.seed, "Overrides train.seed")->check(CLI::NonNegativeNumber);
  train_cmd->add_flag("--fresh", train.fresh, "Ignore an existing checkpoint in --out and start from step 0");
  train_cmd->add_flag("--quiet", train.quiet, "No progress line");

  SampleCommandOptions sample;
  auto* sample_cmd = app.add_subcommand("sample", "Draw an image grid from a packed generator file");
  sample_cmd->add_option("--model", sample.model_path, "Packed generator (generator.bsg)")
      ->required()
      ->check(CLI::ExistingFile);
  sample_cmd->add_option("-n,--count", sample.count, "Number of images (default 64, or as many as --latents-in holds)")
      ->check(CLI::Range(1, 4096));
  sample_cmd->add_option("--seed", sample.seed, "Noise seed");
  sample_cmd->add_option("-o,--out", sample.out_png, "Output PNG");
  sample_cmd->add_option("--latents-in", sample.latents_in,
                         "Latent vectors to use instead of drawing them (.npy [N, nz], float32 or float64)")
      ->check(CLI::ExistingFile);
  sample_cmd->add_option("--latents-out", sample.latents_out, "Write the latent vectors used (.npy float32 [N, nz])");
  sample_cmd->add_option("--images-out", sample.images_out, "Write the images (.npy float32 [N, C, H, W] in [-1, 1])");

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
  evaluator_train->add_option("--limit", evaluator.limit, "Train on the first N images only (0 = all; for quick checks)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  evaluator_train->add_option("--seed", evaluator.seed, "Seed (training is deterministic given it)");
  evaluator_train->add_option("--threads", evaluator.threads, "Threads (0 = all cores)");
  EvaluatorFloorOptions floor;
  auto* evaluator_floor = evaluator_cmd->add_subcommand(
      "floor", "The real-data floor of a spec's metrics: real images of another split against its reference");
  evaluator_floor->add_option("--spec", floor.spec_path, "Job or sweep spec (JSON): dataset, evaluator, metrics, sample size")
      ->required()
      ->check(CLI::ExistingFile);
  evaluator_floor->add_option("--split", floor.split, "The split whose images are measured (default: test)")
      ->check(CLI::IsMember({"train", "test"}));
  evaluator_floor->add_option("--threads", floor.threads, "Threads (0 = all cores)");

  MetricsCommandOptions metrics;
  auto* metrics_cmd = app.add_subcommand("metrics", "FID, IS or KID of feature/probability matrices in .npy files");
  metrics_cmd->add_option("metric", metrics.metric, "fid, is or kid")->required()->check(CLI::IsMember({"fid", "is", "kid"}));
  metrics_cmd->add_option("--real", metrics.real_path, "Real features (N x d .npy; fid, kid)");
  metrics_cmd->add_option("--fake", metrics.fake_path, "Generated features (N x d .npy; fid, kid)");
  metrics_cmd->add_option("--probs", metrics.probabilities_path, "Class probabilities (N x K .npy; is)");
  metrics_cmd->add_option("--splits", metrics.splits, "IS splits")->check(CLI::Range(1, 1000));
  metrics_cmd->add_option("--subsets", metrics.subsets, "KID subsets")->check(CLI::Range(1, 100000));
  metrics_cmd->add_option("--subset-size", metrics.subset_size, "KID subset size")->check(CLI::Range(2, 1000000));

#ifdef BITSWEEP_WITH_SERVICE
  const std::string coordinator_help = "Coordinator host:port (default: $BITSWEEP_COORDINATOR or localhost:50051)";

  CoordinatorCommandOptions coord;
  auto* coord_cmd = app.add_subcommand("coordinator", "Run the coordinator: schedules sweeps, keeps the results store");
  coord_cmd->add_option("--listen", coord.listen, "host:port to listen on")->envname("BITSWEEP_LISTEN");
  coord_cmd->add_option("--db", coord.db_path, "SQLite results store (created when absent)")->envname("BITSWEEP_DB");
  coord_cmd->add_option("--artifacts", coord.artifacts_dir,
                        "Artifact folder; each store keeps its own store-<id>/ in it (default: artifacts/ beside "
                        "the store)")
      ->envname("BITSWEEP_ARTIFACTS");
  coord_cmd->add_flag("--take-over", coord.take_over,
                      "Take the store over from a coordinator on another host that still looks alive (it then stops "
                      "writing); never needed on one host, where a dead holder's lock goes with it")
      ->envname("BITSWEEP_TAKE_OVER");
  coord_cmd->add_option("--lease-ttl", coord.lease_ttl_seconds, "Seconds a lease lives without a heartbeat")
      ->check(CLI::Range(1.0, 86400.0))
      ->envname("BITSWEEP_LEASE_TTL");
  coord_cmd->add_option("--heartbeat", coord.heartbeat_seconds, "Seconds between worker heartbeats")
      ->check(CLI::Range(0.05, 3600.0))
      ->envname("BITSWEEP_HEARTBEAT");
  coord_cmd->add_option("--tls-cert", coord.tls_cert, "PEM certificate to serve TLS with (TLS is off without it)")
      ->envname("BITSWEEP_TLS_CERT");
  coord_cmd->add_option("--tls-key", coord.tls_key, "PEM private key of --tls-cert")->envname("BITSWEEP_TLS_KEY");
  coord_cmd->add_option("--tls-client-ca", coord.tls_client_ca,
                        "PEM CA that signs worker certificates: workers must present one (mutual TLS)")
      ->envname("BITSWEEP_TLS_CLIENT_CA");
  coord_cmd->add_option("--token-file", coord.token_file,
                        "File holding the shared token users (and workers, without mutual TLS) must send")
      ->envname("BITSWEEP_TOKEN_FILE");
  coord_cmd->add_option("--max-request-mb", coord.max_request_mb,
                        "Largest request accepted, in MiB (results carry their artifacts)")
      ->check(CLI::Range(1, 2047))
      ->envname("BITSWEEP_MAX_REQUEST_MB");
  coord_cmd->add_option("--query-timeout", coord.query_timeout_seconds,
                        "Seconds one `bitsweep query` may run before it is stopped")
      ->check(CLI::Range(0.01, 3600.0))
      ->envname("BITSWEEP_QUERY_TIMEOUT");
  coord_cmd->add_option("--max-jobs-per-sweep", coord.max_jobs_per_sweep,
                        "The largest grid one submit may hold; larger ones are refused at once")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}))
      ->envname("BITSWEEP_MAX_JOBS_PER_SWEEP");
  coord_cmd->add_option("--query-max-rows", coord.query_max_rows, "Most rows one `bitsweep query` answers")
      ->check(CLI::Range(1, 10000000))
      ->envname("BITSWEEP_QUERY_MAX_ROWS");

  WorkerCommandOptions work;
  auto* worker_cmd = app.add_subcommand("worker", "Run a worker: lease jobs from a coordinator and run them");
  worker_cmd->add_option("--coordinator", work.coordinator, coordinator_help)->envname("BITSWEEP_COORDINATOR");
  worker_cmd->add_option("--slots", work.slots, "Jobs at once (default: one per GPU, or 1 on CPU)")
      ->check(CLI::Range(0, 1024))
      ->envname("BITSWEEP_SLOTS");
  worker_cmd->add_option("--device", work.device, "auto, cpu or cuda")->envname("BITSWEEP_DEVICE");
  worker_cmd->add_option("--threads", work.threads, "Threads per job (0 = cores / slots)")
      ->check(CLI::Range(0, 1024))
      ->envname("BITSWEEP_THREADS");
  worker_cmd->add_option("--work-dir", work.work_dir, "Folder for job checkpoints and outputs")
      ->envname("BITSWEEP_WORK_DIR");
  worker_cmd->add_option("--cache-dir", work.cache_dir, "Reference-feature cache (default: ~/.cache/bitsweep)")
      ->envname("BITSWEEP_CACHE_DIR");
  worker_cmd->add_option("--tls-ca", work.tls_ca, "PEM CA that signed the coordinator's certificate (turns TLS on)")
      ->envname("BITSWEEP_TLS_CA");
  worker_cmd->add_option("--tls-cert", work.tls_cert, "This worker's PEM certificate (mutual TLS)")
      ->envname("BITSWEEP_TLS_CERT");
  worker_cmd->add_option("--tls-key", work.tls_key, "PEM private key of --tls-cert")->envname("BITSWEEP_TLS_KEY");
  worker_cmd->add_option("--token-file", work.token_file, "File holding the coordinator's shared token")
      ->envname("BITSWEEP_TOKEN_FILE");
  worker_cmd->add_flag("--keep-work", work.keep_work, "Keep job folders after their results are uploaded");
  worker_cmd->add_option("--isolate", work.isolate,
                         "Task kinds whose jobs each run in a process of their own: a crash fails that job alone "
                         "(all, none, or a list such as qgan,ptq,synthetic; default qgan,ptq)")
      ->envname("BITSWEEP_ISOLATE");
  worker_cmd->add_option("--slots-per-gpu", work.slots_per_gpu,
                         "Jobs at once on each GPU (small models use a sliver of one); overrides --slots on GPUs")
      ->check(CLI::Range(0, 64))
      ->envname("BITSWEEP_SLOTS_PER_GPU");
  JobChildOptions job_child;
  auto* job_child_cmd = app.add_subcommand("job-child", "Runs one job for a worker, in a process of its own");
  job_child_cmd->group("");  // internal: started by workers, not by people
  job_child_cmd->add_option("--dir", job_child.dir)->required();
  job_child_cmd->add_option("--events-fd", job_child.events_fd)->required();
  job_child_cmd->add_option("--replies-fd", job_child.replies_fd)->required();

  LocalCommandOptions local;
  auto* local_cmd = app.add_subcommand(
      "local", "Run a sweep on this machine: coordinator and workers in one process, results in a SQLite file");
  local_cmd->add_option("--spec", local.spec_path, "Sweep spec (JSON)")->required()->check(CLI::ExistingFile);
  local_cmd->add_option("--set", local.overrides,
                        "FIELD=VALUE: override one field of the spec, e.g. --set base.train.seed=2 (repeatable)");
  local_cmd->add_option("--workers", local.workers, "Worker slots (default: one per GPU, or 1 on CPU)")
      ->check(CLI::Range(0, 1024));
  local_cmd->add_option("--device", local.device, "auto, cpu or cuda");
  local_cmd->add_option("--isolate", local.isolate,
                        "Task kinds whose jobs each run in a process of their own (all, none, or a list; "
                        "default qgan,ptq)");
  local_cmd->add_option("--threads", local.threads, "Threads per job (0 = cores / slots)")->check(CLI::Range(0, 1024));
  local_cmd->add_option("--db", local.db_path, "SQLite results store");
  local_cmd->add_option("--work-dir", local.work_dir, "Folder for job checkpoints (default: work/ beside the store)");
  local_cmd->add_option("--cache-dir", local.cache_dir, "Reference-feature cache");
  local_cmd->add_flag("--quiet", local.quiet, "No progress display");
  local_cmd->add_flag("--pareto", local.pareto, "Also print the Pareto front of model size against FID");
  local_cmd
      ->add_option("--dashboard", local.dashboard,
                   "Serve the web dashboard (default address 127.0.0.1:8080) while the sweep runs and after it, "
                   "until Ctrl-C")
      ->expected(0, 1);
  local_cmd->add_flag("--rerun", local.rerun,
                      "Run the sweep again when the store already holds a finished run of the same spec "
                      "(default: print that run's results)");

  HealthCommandOptions health;
  auto* health_cmd = app.add_subcommand(
      "health", "Standard gRPC health check of a coordinator: exit 0 when SERVING (up, store writable)");
  AddClientOptions(health_cmd, &health.coordinator);
  health_cmd->add_option("--timeout", health.timeout_seconds, "Seconds to wait for the answer")
      ->check(CLI::Range(0.1, 600.0));

  QueryCommandOptions query;
  ReportCommandOptions report;
  auto* report_cmd = app.add_subcommand(
      "report", "Verdicts of a results store: how few bits keep quality within a bound of full precision, per method");
  report_cmd->add_option("--db", report.db_paths,
                         "SQLite results store, read only (repeatable: runs of other seeds in other stores)")
      ->required()
      ->check(CLI::ExistingFile);
  report_cmd->add_option("--sweep", report.sweeps, "Only these sweeps (repeatable; default: all)");
  report_cmd->add_option("--metric", report.metric, "fid, is or kid")->check(CLI::IsMember({"fid", "is", "kid"}));
  report_cmd->add_option("--bound", report.bound, "Within this factor of full precision (default 1.2)");
  report_cmd->add_option("--confidence", report.confidence, "How sure each verdict must be (default 0.95)");

  auto* query_cmd = app.add_subcommand(
      "query", "Read-only SQL over the results store (tables: results, jobs, sweeps, metrics, artifacts)");
  query_cmd->add_option("sql", query.sql, "One SELECT statement, e.g. \"SELECT method_g, AVG(fid) FROM results GROUP BY 1\"")
      ->required();
  query_cmd->add_option("--format", query.format, "table, csv or json")->check(CLI::IsMember({"table", "csv", "json"}));
  query_cmd->add_option("--max-rows", query.max_rows, "Most rows to return (0 = the coordinator's limit)")
      ->check(CLI::Range(0, 10000000));
  AddClientOptions(query_cmd, &query.coordinator);

  SubmitCommandOptions submit;
  auto* submit_cmd = app.add_subcommand("submit", "Submit a sweep spec to a coordinator");
  submit_cmd->add_option("--spec", submit.spec_path, "Sweep spec (JSON)")->required()->check(CLI::ExistingFile);
  submit_cmd->add_option("--set", submit.overrides,
                         "FIELD=VALUE: override one field of the spec, e.g. --set base.train.seed=2 (repeatable)");
  AddClientOptions(submit_cmd, &submit.coordinator);
  submit_cmd->add_flag("--watch", submit.watch, "Follow the sweep until it finishes");

  StatusCommandOptions status;
  auto* status_cmd = app.add_subcommand("status", "List sweeps, or show one sweep and its jobs");
  status_cmd->add_option("sweep", status.sweep_id, "Sweep id (omit to list all sweeps)");
  AddClientOptions(status_cmd, &status.coordinator);

  WatchCommandOptions watch;
  auto* watch_cmd = app.add_subcommand("watch", "Follow a sweep live: progress bars and ETA");
  watch_cmd->add_option("sweep", watch.sweep_id, "Sweep id")->required();
  AddClientOptions(watch_cmd, &watch.coordinator);

  ResultsCommandOptions results;
  auto* results_cmd = app.add_subcommand("results", "The results table: one row per finished job");
  results_cmd->add_option("sweep,--sweep", results.sweep_id, "Sweep id (omit for all sweeps)");
  AddClientOptions(results_cmd, &results.coordinator);
  results_cmd->add_option("--format", results.format, "table, csv or json")
      ->check(CLI::IsMember({"table", "csv", "json"}));
  results_cmd->add_option("--sort", results.sort, "Column to sort by (-column for descending), e.g. fid or -is");
  results_cmd->add_option("--where", results.where, "Filter, e.g. bits_g<=2 or method_g=em (repeatable)");
  results_cmd->add_flag("--pareto", results.pareto, "Only the Pareto front of packed model bytes against FID");
  results_cmd->add_flag("--summary", results.summary,
                        "The search's summary: chosen bit-widths, every configuration with mean and std over "
                        "seeds, jobs and worker-hours spent, Pareto front");

  PlotCommandOptions plot;
  auto* plot_cmd = app.add_subcommand("plot", "Draw a search as a PNG: quality against bits per method, and the "
                                              "Pareto front of packed generator size against quality");
  plot_cmd->add_option("sweep,--sweep", plot.sweep_id, "Sweep id")->required();
  plot_cmd->add_option("-o,--out", plot.out, "PNG file to write")->required();
  AddClientOptions(plot_cmd, &plot.coordinator);

  CancelCommandOptions cancel;
  auto* cancel_cmd = app.add_subcommand("cancel", "Cancel a sweep (or one job) ");
  cancel_cmd->add_option("sweep", cancel.sweep_id, "Sweep id");
  cancel_cmd->add_option("--job", cancel.job_id, "Cancel only this job");
  AddClientOptions(cancel_cmd, &cancel.coordinator);

  WorkersCommandOptions workers;
  auto* workers_cmd = app.add_subcommand("workers", "List the workers a coordinator knows");
  AddClientOptions(workers_cmd, &workers.coordinator);

  DashboardCommandOptions dashboard;
  auto* dashboard_cmd = app.add_subcommand(
      "dashboard", "Serve a read-only web dashboard of a coordinator's sweeps, jobs, results and workers");
  dashboard_cmd->add_option("--listen", dashboard.listen, "HTTP address (default 127.0.0.1:8080; port 0 picks one)")
      ->envname("BITSWEEP_DASHBOARD_LISTEN");
  dashboard_cmd->add_flag("--allow-remote", dashboard.allow_remote,
                          "Allow --listen on an address other than loopback (anyone who reaches it sees every sweep)")
      ->envname("BITSWEEP_DASHBOARD_ALLOW_REMOTE");
  AddClientOptions(dashboard_cmd, &dashboard.coordinator);

  ArtifactsCommandOptions artifacts;
  auto* artifacts_cmd = app.add_subcommand("artifacts", "Sample grids and packed generators of finished jobs");
  artifacts_cmd->require_subcommand(1);
  auto* artifacts_list = artifacts_cmd->add_subcommand("list", "List the artifacts of a job or a sweep");
  artifacts_list->add_option("--job", artifacts.job_id, "Job id");
  artifacts_list->add_option("--sweep", artifacts.sweep_id, "Sweep id");
  AddClientOptions(artifacts_list, &artifacts.coordinator);
  ArtifactsCommandOptions artifact_get;
  artifact_get.action = "get";
  auto* artifacts_get = artifacts_cmd->add_subcommand("get", "Download one artifact");
  artifacts_get->add_option("--job", artifact_get.job_id, "Job id")->required();
  artifacts_get->add_option("name", artifact_get.name, "Artifact name (samples.png, generator.bsg)")->required();
  artifacts_get->add_option("-o,--out", artifact_get.out_path, "Where to save it (default: its name)");
  AddClientOptions(artifacts_get, &artifact_get.coordinator);
#endif

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 prints the message; map its many codes onto ours (0 for --help).
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  if (evaluator_train->parsed()) return RunEvaluatorTrainCommand(evaluator);
  if (evaluator_floor->parsed()) return RunEvaluatorFloorCommand(floor);
  if (metrics_cmd->parsed()) return RunMetricsCommand(metrics);
  if (train_cmd->parsed()) return RunTrainCommand(train);
  if (sample_cmd->parsed()) return RunSampleCommand(sample);
#ifdef BITSWEEP_WITH_SERVICE
  if (coord_cmd->parsed()) return RunCoordinatorCommand(coord);
  if (worker_cmd->parsed()) return RunWorkerCommand(work);
  if (job_child_cmd->parsed()) return RunJobChildCommand(job_child);
  if (local_cmd->parsed()) {
    if (local_cmd->count("--dashboard") > 0 && local.dashboard.empty()) local.dashboard = "127.0.0.1:8080";
    return RunLocalCommand(local);
  }
  if (report_cmd->parsed()) return RunReportCommand(report);  // reads the store file, no coordinator
  // The rest are clients of a coordinator.
  if (bitsweep::Status security = LoadClientSecurity(); !security.ok()) return ReportError("connect", security);
  if (health_cmd->parsed()) return RunHealthCommand(health);
  if (query_cmd->parsed()) return RunQueryCommand(query);
  if (submit_cmd->parsed()) return RunSubmitCommand(submit);
  if (status_cmd->parsed()) return RunStatusCommand(status);
  if (watch_cmd->parsed()) return RunWatchCommand(watch);
  if (results_cmd->parsed()) return RunResultsCommand(results);
  if (cancel_cmd->parsed()) return RunCancelCommand(cancel);
  if (plot_cmd->parsed()) return RunPlotCommand(plot);
  if (workers_cmd->parsed()) return RunWorkersCommand(workers);
  if (dashboard_cmd->parsed()) return RunDashboardCommand(dashboard);
  if (artifacts_list->parsed()) return RunArtifactsCommand(artifacts);
  if (artifacts_get->parsed()) return RunArtifactsCommand(artifact_get);
#endif
  return kExitUsage;
}
