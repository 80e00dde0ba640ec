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

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -n 6 --reruns 2

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV)
