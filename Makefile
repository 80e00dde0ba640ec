# `make run` and `make test` each bootstrap .venv from the requirements files on a fresh machine.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
RUNTIME := $(VENV)/.runtime
DEV := $(VENV)/.dev
PIP := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: run test test-fast bench venv clean

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# The bot's own dependencies only: `make run` installs no test tools.
$(RUNTIME): requirements.txt | $(PY)
	$(PIP) -r requirements.txt
	@touch $(RUNTIME)

$(DEV): $(RUNTIME) requirements-dev.txt requirements-python-quickbooks.txt
	$(PIP) -r requirements-dev.txt
	$(PIP) --no-deps -r requirements-python-quickbooks.txt
	@touch $(DEV)

venv: $(DEV)

run: $(RUNTIME)
	$(PY) bot.py run

# Bytecode is cached even where the environment says PYTHONDONTWRITEBYTECODE: otherwise each worker parses,
# rewrites (pytest's assertions) and compiles every module again, about a third of the suite's CPU.
# The collection pass does that once, in one process, before the workers start. No test is ever re-run: a test
# that fails once is a bug to find, in the test or in the bot.
test: $(DEV)
	$(VENV)/bin/ruff check .
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -q --collect-only > /dev/null
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -q -n 6

# The edit-test loop: unit and handler tests only (no real processes, no browser), in about 16 s on 2 cores
# (4 workers: the handler tests wait on their fake services' threads as much as they compute).
test-fast: $(DEV)
	$(VENV)/bin/ruff check .
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -q -n 4 tests/unit tests/handlers

bench: $(DEV)
	$(PY) -m bench

clean:
	rm -rf $(VENV)
