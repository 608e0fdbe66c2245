# Day-to-day front door; every target is a plain script under scripts/.
.PHONY: deps build test demo bench clean

deps:
	bash scripts/install-deps.sh test

build:
	bash scripts/build.sh

test:
	bash scripts/test.sh

demo:
	bash scripts/demo.sh

bench:
	bash bench/run_train_step.sh

clean:
	rm -rf build
