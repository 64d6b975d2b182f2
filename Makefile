# The two set-up commands: `make demo` and `make test`. Both create .venv and install first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint typecheck pytest demo serve bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest -q -p no:cacheprovider

test: lint typecheck pytest

demo: install
	$(BIN)/referent demo --out out

serve: install
	$(BIN)/referent serve

bench: install
	$(BIN)/python bench/render_bench.py
	$(BIN)/python bench/slack_load.py
	$(BIN)/python bench/teams_load.py
	$(BIN)/python bench/reminder_fanout.py

clean:
	rm -rf $(VENV) out var .pytest_cache .mypy_cache .ruff_cache
