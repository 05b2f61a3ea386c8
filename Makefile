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

demo: $(STAMP)
	$(VENV)/bin/borderflow validate networks/north_america experiments/scenarios/*.toml
	$(VENV)/bin/borderflow run baseline --seed 1 --days 730 --out results/baseline
	$(PY) experiments/talks_collapse.py --reps 4 --seed 2025

test: $(STAMP)
	$(VENV)/bin/ruff check sim tests benchmarks experiments
	$(VENV)/bin/mypy
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/bench_replication.py

clean:
	rm -rf $(VENV) results .pytest_cache .mypy_cache .ruff_cache
