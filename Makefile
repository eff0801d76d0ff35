# make train:        set up .venv from the lock (once), then train the default experiment
# make test:         set up .venv from the lock (once), then the test suite without the tests marked slow (CI)
# make test-all:     the same with the slow ones (every family in every mapping end to end, reproductions, the
#                    aligned exports, benchmark smoke runs): run it before landing a change to families or tasks
# make test-latest:  a fresh .venv-latest with the newest releases pyproject.toml allows, then the suite:
#                    a release that breaks a result is seen on purpose, not by a newcomer
# make lock:         refresh requirements.lock from pyproject.toml (after changing a dependency)
# make docs:         build the documentation site into site/ and check its links (make serve: live preview)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
LOCK := requirements.lock
EXTRAS := dev,forecast,tune,mlflow,wandb,rich,export,baselines,cluster,docs
# A machine's pip cap, where it has one (these machines serve torch <= 2.14.1 from their own disk): the lock
# must not ask for a release the machines that run it refuse.
CAP := $(wildcard /etc/xdg/pip/constraints.txt)

.PHONY: train test test-all test-latest lock docs serve clean

$(VENV)/.installed: pyproject.toml $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -r $(LOCK)
	$(PY) -m pip install --no-deps -e .
	touch $@

train: $(VENV)/.installed
	$(PY) train.py $(ARGS)

test: $(VENV)/.installed
	$(PY) -m pytest -n 2 -m "not slow" $(ARGS)

test-all: $(VENV)/.installed
	$(PY) -m pytest -n 2 $(ARGS)

test-latest:
	rm -rf .venv-latest
	$(PYTHON) -m venv .venv-latest
	.venv-latest/bin/python -m pip install --upgrade pip
	.venv-latest/bin/python -m pip install --upgrade --upgrade-strategy eager -e ".[$(EXTRAS)]"
	.venv-latest/bin/python scripts/lock_diff.py $(LOCK)   # the releases that differ from the lock: the suspects
	.venv-latest/bin/python -m pytest -n 2 -m "not slow" $(ARGS)

# One lock for every platform and Python >= 3.10 (uv's universal resolution, markers where versions differ),
# installed with pip. The versions the suite was run with are those for Python 3.11 on Linux x86_64.
lock: $(VENV)/.installed
	$(PY) -m pip install "uv>=0.5"
	$(PY) -m uv pip compile pyproject.toml --all-extras --universal --python-version 3.10 \
		$(if $(CAP),-c $(CAP)) --custom-compile-command "make lock" --quiet --output-file $(LOCK)

docs: $(VENV)/.installed
	$(PY) -m mkdocs build --strict
	$(PY) scripts/check_links.py site

serve: $(VENV)/.installed
	$(PY) -m mkdocs serve

clean:
	rm -rf logs outputs multirun .pytest_cache site
