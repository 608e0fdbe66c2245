# What the demo and the Fashion-MNIST studies need first, sourced by them:
# the packages, the bitsweep binary, and the classifier evaluator, trained
# once into runs/evaluators/ (about a minute). Sets $bitsweep and
# $classifier. Run from the repository's root.
source scripts/env.sh
bash scripts/install-deps.sh run
bash scripts/build.sh --no-tests bitsweep
bitsweep=./build/cli/bitsweep
classifier=runs/evaluators/fmnist-classifier.pt
if [[ ! -f "$classifier" ]]; then
  mkdir -p "$(dirname "$classifier")"
  "$bitsweep" evaluator train --dataset fashion-mnist --out "$classifier"
fi
