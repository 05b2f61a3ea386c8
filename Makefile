# Two commands: `make demo` and `make test`. Each sets up .venv on a fresh machine first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)  ## the main job on the default network; rewrites results/demo/
	$(VENV)/bin/borderflow validate networks/north_america experiments/scenarios/*.toml
	rm -rf results/demo
	$(VENV)/bin/borderflow run baseline --seed 1 --days 730 --out results/demo/baseline
	$(PY) experiments/talks_collapse.py --reps 4 --seed 2025 --out results/demo/talks_collapse
	$(VENV)/bin/borderflow run talks_collapse --reps 8 --seed 1 --out results/demo/talks_collapse_batch
	$(VENV)/bin/borderflow compare baseline talks_collapse --reps 8 --seed 1 --out results/demo/compare
	$(VENV)/bin/borderflow plot results/demo/talks_collapse_batch
	$(VENV)/bin/borderflow plot results/demo/compare
	mkdir -p docs/figures
	cp results/demo/compare/backlog.png results/demo/compare/who_pays.png results/demo/compare/map.png results/demo/compare/crossings.png docs/figures/
	$(VENV)/bin/borderflow report results/demo/compare --out results/demo/talks_collapse_report.html
	@echo "talks-collapse report: $(CURDIR)/results/demo/talks_collapse_report.html"

test: $(STAMP)
	$(VENV)/bin/ruff check sim tests benchmarks experiments
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/bench_replication.py
	$(PY) benchmarks/bench_batch.py

clean:
	rm -rf $(VENV) results .pytest_cache .mypy_cache .ruff_cache
