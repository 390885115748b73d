# Everything starts from `python3` alone: uv is bootstrapped into .tools/, the locked workspace
# into .venv/. Every target installs what it needs first.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
export UV_PYTHON_DOWNLOADS := never
export UV_NO_PROGRESS := 1

.PHONY: install demo test lint typecheck pytest bench bench-smoke docs docs-sync fuzz crash hostile-bodies faults mutants clean

$(UV):
	@echo "bootstrapping uv $(UV_VERSION) into $(TOOLS)/"
	@$(PYTHON) -m venv $(TOOLS)
	@$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# Quiet unless it fails: the installer's package list is shown only when something went wrong.
$(VENV)/.installed: $(UV) uv.lock pyproject.toml core/pyproject.toml $(wildcard plugins/*/pyproject.toml)
	@echo "installing the locked workspace into $(VENV)/"
	@$(UV) sync --locked --all-packages --python "$$(command -v $(PYTHON))" > $(TOOLS)/install.log 2>&1 \
		|| { cat $(TOOLS)/install.log; echo "install failed (log: $(TOOLS)/install.log)"; exit 1; }
	@touch $@

install: $(VENV)/.installed ## install the workspace (core, plugins, dev tools) from the lock

demo: install ## run the main job against the built-in sandbox
	@$(BIN)/caudal demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy core/src plugins/khipu/src plugins/belvo/src

pytest: install
	$(BIN)/pytest

test: lint typecheck pytest ## everything CI checks

fuzz: install ## long property runs (many more hypothesis examples)
	CAUDAL_HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -x

crash: install ## kill a real webhook receiver at every step, many runs each (CAUDAL_CRASH_RUNS)
	CAUDAL_CRASH_RUNS=$${CAUDAL_CRASH_RUNS:-10} $(BIN)/pytest tests/webhooks/test_crash.py -s -q

hostile-bodies: install ## peak memory per byte for hostile bodies up to 32 MiB (about 1 GB of RAM)
	CAUDAL_HOSTILE_FULL=1 $(BIN)/pytest tests/hostile/test_memory.py -s -q

faults: install ## the fault catalogue at the measured pace (drip 1 B/s, deadline 5 s, 1 GiB bombs); writes tests/faults/SUMMARY.txt
	CAUDAL_FAULTS=slow CAUDAL_FAULTS_SUMMARY=tests/faults/SUMMARY.txt $(BIN)/pytest tests/faults -q

mutants: install ## rewrite docs/testing-kit-mutants.md from the core test of the kit's power
	CAUDAL_WRITE_MUTANT_DOC=1 $(BIN)/pytest tests/core/test_kit_power.py tests/plugins/test_mutants.py -q -k "mutant"

bench: install ## benchmarks with same-run baselines; writes bench/results.json
	$(BIN)/python -m bench

docs: install
	$(BIN)/mkdocs build --strict

docs-sync: install ## regenerate the generated blocks of README.md and docs/ (committed)
	$(BIN)/python docs/_gen/sync.py

clean:
	rm -rf $(VENV) $(TOOLS) site .mypy_cache .ruff_cache .pytest_cache .hypothesis
