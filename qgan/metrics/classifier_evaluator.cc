#include "qgan/metrics/classifier_evaluator.h"

#include <ATen/CPUGeneratorImpl.h>
#include <chrono>
#include <cstdio>
#include <thread>
#include <torch/torch.h>

#include "qgan/data/dataset.h"

namespace bitsweep::qgan {
namespace {

constexpr const char* kFormat = "bitsweep-classifier-v2";
constexpr int kInputSize = 32;

class ClassifierEvaluator : public Evaluator {
 public:
  ClassifierEvaluator(ClassifierNet net, std::string hash, torch::Device device)
      : net_(std::move(net)), hash_(std::move(hash)), device_(device) {}

  Result<EvaluatorOutput> Evaluate(const torch::Tensor& images, bool with_probabilities) override {
    if (images.dim() != 4 || images.size(1) != 1) {
      return Status::InvalidArgument("the classifier evaluator is for grey images ([N, 1, H, W]); use the "
                                     "inception evaluator for colour data");
    }
    torch::NoGradGuard no_grad;
    torch::Tensor x = images.to(device_, torch::kFloat32);
    if (x.size(2) != kInputSize || x.size(3) != kInputSize) {
      x = torch::nn::functional::interpolate(
          x, torch::nn::functional::InterpolateFuncOptions()
                 .size(std::vector<int64_t>{kInputSize, kInputSize})
                 .mode(torch::kArea));
    }
    EvaluatorOutput out;
    // The probabilities come from these features, not from a second pass
    // through the network (forward() is logits(features()): the same values).
    torch::Tensor features = net_->features(x);
    out.features = features.to(torch::kCPU);
    if (with_probabilities) out.probabilities = torch::softmax(net_->logits(features), 1).to(torch::kCPU);
    return out;
  }

  std::string name() const override { return "classifier"; }
  std::string hash() const override { return hash_; }

 private:
  ClassifierNet net_;
  std::string hash_;
  torch::Device device_;
};

// Accuracy of `net` on `data` (eval mode, batches of 1000).
double Accuracy(ClassifierNet& net, const Dataset& data) {
  torch::NoGradGuard no_grad;
  net->eval();
  int64_t correct = 0;
  for (int64_t begin = 0; begin < data.size(); begin += 1000) {
    const int64_t count = std::min<int64_t>(1000, data.size() - begin);
    auto idx = torch::arange(begin, begin + count);
    auto predicted = net->forward(data.Batch(idx)).argmax(1);
    correct += predicted.eq(data.labels().index_select(0, idx)).sum().item<int64_t>();
  }
  return static_cast<double>(correct) / static_cast<double>(data.size());
}

}  // namespace

ClassifierNetImpl::ClassifierNetImpl(int classes) {
  conv1 = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 32, 3).padding(1)));
  conv2 = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 3).padding(1)));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(32));
  bn2 = register_module("bn2", torch::nn::BatchNorm2d(64));
  fc1 = register_module("fc1", torch::nn::Linear(64 * 8 * 8, kClassifierFeatures));
  fc2 = register_module("fc2", torch::nn::Linear(kClassifierFeatures, classes));
}

torch::Tensor MaxPool2x2(const torch::Tensor& x) {
  using torch::indexing::Slice;
  if (torch::GradMode::is_enabled() || x.dim() != 4 || x.size(2) % 2 != 0 || x.size(3) % 2 != 0) {
    return torch::max_pool2d(x, 2);
  }
  auto rows = torch::maximum(x.index({"...", Slice(0, torch::indexing::None, 2), Slice()}),
                             x.index({"...", Slice(1, torch::indexing::None, 2), Slice()}));
  return torch::maximum(rows.index({"...", Slice(0, torch::indexing::None, 2)}),
                        rows.index({"...", Slice(1, torch::indexing::None, 2)}));
}

torch::Tensor ClassifierNetImpl::features(const torch::Tensor& images) {
  auto x = MaxPool2x2(torch::relu(bn1->forward(conv1->forward(images))));
  x = MaxPool2x2(torch::relu(bn2->forward(conv2->forward(x))));
  return torch::relu(fc1->forward(x.flatten(1)));
}

torch::Tensor ClassifierNetImpl::logits(const torch::Tensor& features) { return fc2->forward(features); }

torch::Tensor ClassifierNetImpl::forward(const torch::Tensor& images) { return logits(features(images)); }

Result<ClassifierReport> TrainClassifier(const ClassifierTrainOptions& options, const std::string& path) {
  auto start = std::chrono::steady_clock::now();
  try {
    if (options.threads > 0) {
      torch::set_num_threads(options.threads);
    } else {
      torch::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    }
    DatasetSpec train_spec = options.dataset;
    train_spec.image_size = kInputSize;
    train_spec.split = "train";
    DatasetSpec test_spec = train_spec;
    test_spec.split = "test";
    test_spec.limit = 0;
    BITSWEEP_ASSIGN_OR_RETURN(auto train, OpenDataset(train_spec));
    BITSWEEP_ASSIGN_OR_RETURN(auto test, OpenDataset(test_spec));
    if (train->channels() != 1 || !train->labels().defined()) {
      return Status::InvalidArgument("dataset " + train_spec.name +
                                     ": the classifier evaluator needs labelled grey images");
    }

    torch::manual_seed(options.seed);
    ClassifierNet net;
    torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(options.lr));
    auto generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
    const int64_t n = train->size();
    for (int epoch = 1; epoch <= options.epochs; ++epoch) {
      // A tenth of the learning rate for the last epoch settles the weights
      // (worth about a point of accuracy here).
      if (epoch == options.epochs && options.epochs > 1) {
        for (auto& group : optimizer.param_groups()) {
          static_cast<torch::optim::AdamOptions&>(group.options()).lr(options.lr * 0.1);
        }
      }
      net->train();
      auto order = torch::randperm(n, generator, torch::kInt64);
      double loss_sum = 0.0;
      int64_t batches = 0;
      for (int64_t begin = 0; begin + options.batch_size <= n; begin += options.batch_size) {
        auto idx = order.narrow(0, begin, options.batch_size);
        auto loss = torch::cross_entropy_loss(net->forward(train->Batch(idx)), train->labels().index_select(0, idx));
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        loss_sum += loss.item<double>();
        ++batches;
      }
      if (options.on_epoch) options.on_epoch(epoch, loss_sum / static_cast<double>(std::max<int64_t>(1, batches)));
    }

    ClassifierReport report;
    report.test_accuracy = Accuracy(net, *test);
    report.test_images = test->size();
    torch::serialize::OutputArchive archive;
    torch::serialize::OutputArchive weights;
    net->save(weights);
    archive.write("format", c10::IValue(std::string(kFormat)));
    archive.write("dataset", c10::IValue(train_spec.name));
    archive.write("test_accuracy", c10::IValue(report.test_accuracy));
    archive.write("weights", weights);
    std::string tmp = path + ".tmp";
    archive.save_to(tmp);
    if (std::rename(tmp.c_str(), path.c_str()) != 0) return Status::IoError(path + ": cannot rename " + tmp);
    BITSWEEP_ASSIGN_OR_RETURN(report.hash, HashFile(path));
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
  } catch (const c10::Error& e) {
    return Status::Internal(std::string("LibTorch error while training the classifier: ") +
                            e.what_without_backtrace());
  }
}

Result<std::unique_ptr<Evaluator>> LoadClassifierEvaluator(const std::string& path, const torch::Device& device) {
  BITSWEEP_ASSIGN_OR_RETURN(std::string hash, HashFile(path));
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path, device);
    c10::IValue format;
    if (!archive.try_read("format", format) || !format.isString() || format.toStringRef() != kFormat) {
      return Status::InvalidArgument(path + ": not a bitsweep classifier (train one with `bitsweep evaluator train`)");
    }
    torch::serialize::InputArchive weights;
    archive.read("weights", weights);
    ClassifierNet net;
    net->load(weights);
    net->to(device);
    net->eval();
    return std::unique_ptr<Evaluator>(new ClassifierEvaluator(net, hash, device));
  } catch (const c10::Error& e) {
    return Status::InvalidArgument(path + ": cannot load classifier: " + e.what_without_backtrace());
  }
}

}  // namespace bitsweep::qgan
