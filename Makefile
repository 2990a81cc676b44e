# Set-up is idempotent: .venv/.installed is rebuilt only when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MNIST ?= $(firstword $(wildcard ../shared/data/mnist.npz))

.PHONY: demo test docs bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test,docs]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/vae-tf compare --preset demo $(if $(MNIST),--data $(MNIST)) --out demo-out

test: $(STAMP)
	VAE_TF_MNIST=$${VAE_TF_MNIST:-$(abspath $(MNIST))} $(BIN)/python -m pytest -q -n 2 --dist loadfile --durations=15 tests

# The documentation site, offline, warnings as errors (tests/test_docs.py builds it the same way).
docs: $(STAMP)
	$(BIN)/python -m sphinx -b html -W --keep-going -q docs docs/_build/html
	@echo "open docs/_build/html/index.html"

bench: $(STAMP)
	$(BIN)/python benchmarks/train_throughput.py $(if $(MNIST),--data $(MNIST))
	$(BIN)/python benchmarks/iwae_eval.py $(if $(MNIST),--data $(MNIST))
	$(BIN)/python benchmarks/model_throughput.py $(if $(MNIST),--data $(MNIST))
	$(BIN)/python benchmarks/compression_speed.py $(if $(MNIST),--data $(MNIST))

clean:
	rm -rf $(VENV) demo-out docs/_build
