# logpipe: `make demo` runs the pipeline on the bundled examples, `make test` runs the whole suite.
# Both create the virtualenv (.venv) on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install demo test test-unit lint format bench fuzz examples clean

install: $(INSTALLED)

# setup.py compiles the hot path in place (mypyc): a changed source means a rebuild, or the stale .so would run.
# LOGPIPE_PURE_PYTHON=1 make install skips compiling (fast edit loop); a plain pip install never compiles.
COMPILE := $(if $(filter 1,$(LOGPIPE_PURE_PYTHON)),0,1)
$(INSTALLED): pyproject.toml setup.py $(shell find logpipe -name '*.py' -o -name '*.c')
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	LOGPIPE_COMPILE=$(COMPILE) $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

demo: $(INSTALLED)
	$(BIN)/logpipe replay --format human examples/clipforge-api-text.log

# the whole suite on TEST_WORKERS processes (pytest-xdist): most tests wait on real services (a container's log, a
# receiver, Prometheus), so more workers than cores still shortens the run; worksteal: an idle worker takes tests
# queued for a busy one (durations range from milliseconds to a minute). What the workers share (one Bugsink, one
# image build, one pair of installs, a daemon the run starts) is made once, under a lock (tests/conftest.py)
TEST_WORKERS ?= 4
test: $(INSTALLED)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal

# no services (Docker daemon, receivers, mounts): tests/docker and tests/integration are marked integration
test-unit: $(INSTALLED)
	$(BIN)/python -m pytest -m "not integration"

lint: $(INSTALLED)
	$(BIN)/ruff format --check logpipe tests bench examples setup.py
	$(BIN)/ruff check logpipe tests bench examples setup.py
	$(BIN)/mypy

format: $(INSTALLED)
	$(BIN)/ruff format logpipe tests bench examples setup.py
	$(BIN)/ruff check --fix logpipe tests bench examples

# parse and redaction costs, then issue 14's figures next to their references and targets, with a summary table
# (bench/speed.py: replay vs grep, the pack at 10-200 rules, follow vs `docker logs -f`, latency, RSS; it starts a
# Docker daemon if none answers, root only, and stops it again). 7-10 minutes on 2 cores.
bench: $(INSTALLED)
	$(BIN)/python bench/parse_throughput.py
	$(BIN)/python bench/redact_throughput.py
	$(BIN)/python bench/speed.py

fuzz: $(INSTALLED)
	$(BIN)/python bench/fuzz.py
	$(BIN)/python -m pip install --quiet --disable-pip-version-check 'atheris>=2.3'
	$(BIN)/python bench/fuzz_guided.py

examples: $(INSTALLED)
	$(BIN)/python examples/make_examples.py

clean:
	rm -rf $(VENV) bench/out .pytest_cache .mypy_cache .ruff_cache .hypothesis
