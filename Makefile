# readout — developer tasks. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SHARED ?= ../shared

.PHONY: demo test lint fmt schema bench eval eval-local record-cassettes clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(VENV)/.runtime: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.dev: pyproject.toml $(VENV)/.runtime
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

demo: $(VENV)/.runtime  ## install and summarize the seed readout with the default engine
	$(VENV)/bin/readout summarize seeds/wangyi-ebrard-2021.txt --format table

test: $(VENV)/.dev  ## lint and run the whole test suite offline
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(PY) -m pytest -q

lint: $(VENV)/.dev  ## ruff
	$(VENV)/bin/ruff check src tests benchmarks scripts

schema: $(VENV)/.runtime  ## regenerate schemas/ from the Pydantic models
	$(VENV)/bin/readout schema --out schemas

eval: $(VENV)/.runtime  ## score the offline engine on the development set
	$(VENV)/bin/readout eval $(SHARED)/readouts/gold --corpus $(SHARED)/readouts --engine rules --per-file

bench: $(VENV)/.dev  ## speed and quality numbers (offline engine, batch, LLM overhead)
	$(PY) benchmarks/offline_bench.py --shared $(SHARED)
	$(PY) benchmarks/batch_bench.py
	$(PY) benchmarks/llm_overhead.py

eval-local: $(VENV)/.dev  ## score the LLM engine on the development set with a local Qwen model (slow, dev-only)
	$(PY) scripts/eval-local

record-cassettes: $(VENV)/.dev  ## re-record cassettes against a local llama-server (slow, dev-only)
	$(PY) scripts/record-cassettes

clean:  ## remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache
