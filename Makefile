# make train: set up .venv (once) and train the default experiment
# make test:  set up .venv (once) and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: train test test-fast clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[dev,forecast,tune,mlflow,wandb,rich,export]"
	touch $@

train: $(VENV)/.installed
	$(PY) train.py $(ARGS)

test: $(VENV)/.installed
	$(PY) -m pytest -n 2 $(ARGS)

test-fast: $(VENV)/.installed
	$(PY) -m pytest -n 2 -m "not slow" $(ARGS)

clean:
	rm -rf logs outputs multirun .pytest_cache
