# `make run` and `make test` each bootstrap .venv from the requirements files on a fresh machine.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench venv clean

$(STAMP): requirements.txt requirements-dev.txt requirements-python-quickbooks.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-python-quickbooks.txt
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(PY) bot.py run

# Bytecode is cached even where the environment says PYTHONDONTWRITEBYTECODE: otherwise each of the 6 workers
# parses, rewrites (pytest's assertions) and compiles every module again, about a third of the suite's CPU.
# The collection pass does that once, in one process, before the workers start.
test: $(STAMP)
	$(VENV)/bin/ruff check .
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -q --collect-only > /dev/null
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -q -n 6 --reruns 2

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV)
