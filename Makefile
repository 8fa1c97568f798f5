# logpipe: `make demo` runs the pipeline on the bundled examples, `make test` runs the whole suite.
# Both create the virtualenv (.venv) on first use, from the lock.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PIP = -m pip --quiet --disable-pip-version-check

.PHONY: install demo test test-unit test-latest test-lowest lock lint format bench fuzz examples clean

install: $(INSTALLED)

# setup.py compiles the hot path in place (mypyc): a changed source means a rebuild, or the stale .so would run.
# LOGPIPE_PURE_PYTHON=1 make install skips compiling (fast edit loop); a plain pip install never compiles.
COMPILE := $(if $(filter 1,$(LOGPIPE_PURE_PYTHON)),0,1)
# The lock's versions first, every file checked against its hash (requirements/dev.txt is uv.lock exported), then
# logpipe itself with nothing left to resolve: the venv holds exactly what CI tested.
$(INSTALLED): pyproject.toml setup.py requirements/dev.txt $(shell find logpipe -name '*.py' -o -name '*.c')
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python $(PIP) install --require-hashes --no-deps -r requirements/dev.txt
	LOGPIPE_COMPILE=$(COMPILE) $(BIN)/python $(PIP) install --no-deps -e .
	touch $@

# Update the lock to the newest versions pyproject.toml's ranges allow, and its exports (hashed requirements for
# pip: dev.txt for make install and CI, agent.txt for the image; agent-pins.txt, the same versions without hashes, for
# pipx, which installs a local package whose own hash no lock holds). Then `make test`, and commit them all.
lock: $(INSTALLED)
	$(BIN)/uv lock --upgrade
	$(BIN)/uv export --frozen --no-header --no-emit-project --format requirements-txt --extra agent -q -o requirements/agent.txt
	$(BIN)/uv export --frozen --no-header --no-emit-project --format requirements-txt --extra dev -q -o requirements/dev.txt
	$(BIN)/uv export --frozen --no-header --no-emit-project --format requirements-txt --extra agent -q \
		--no-hashes --no-annotate -o requirements/agent-pins.txt

# The ends of the ranges, each in its own venv beside the lock's (built as `make install` builds, since the compiled
# modules live in the tree): the newest versions allowed, where a new release that breaks logpipe shows up first,
# and the lowest of what services import (structlog, orjson, sentry-sdk). Each prints the versions that differ from
# the lock, so a red run names its package.
SERVICE_TESTS := tests/unit/test_logconfig.py tests/unit/test_logconfig_redaction.py tests/integration/test_service_sentry.py
test-latest: $(INSTALLED)
	rm -rf .venv-latest && $(BIN)/uv venv -q --seed --python $(BIN)/python .venv-latest
	LOGPIPE_COMPILE=$(COMPILE) $(BIN)/uv pip install -q --python .venv-latest/bin/python --upgrade -e '.[dev]'
	.venv-latest/bin/python tests/lockdiff.py
	.venv-latest/bin/python -m pytest -m "not integration" tests/unit tests/rules
	.venv-latest/bin/python -m pytest $(SERVICE_TESTS)

test-lowest: $(INSTALLED)
	rm -rf .venv-lowest && $(BIN)/uv venv -q --seed --python $(BIN)/python .venv-lowest
	$(BIN)/uv pip install -q --python .venv-lowest/bin/python --require-hashes --no-deps -r requirements/dev.txt
	LOGPIPE_COMPILE=$(COMPILE) $(BIN)/uv pip install -q --python .venv-lowest/bin/python --no-deps -e .
	$(BIN)/uv pip install -q --python .venv-lowest/bin/python --resolution lowest-direct \
		--upgrade-package structlog --upgrade-package orjson --upgrade-package sentry-sdk -r pyproject.toml --extra sentry
	.venv-lowest/bin/python tests/lockdiff.py
	.venv-lowest/bin/python -m pytest $(SERVICE_TESTS)

demo: $(INSTALLED)
	$(BIN)/logpipe replay --format human examples/clipforge-api-text.log

# the whole suite on TEST_WORKERS processes (pytest-xdist): most tests wait on real services (a container's log, a
# receiver, Prometheus), so more workers than cores still shortens the run; worksteal: an idle worker takes tests
# queued for a busy one (durations range from milliseconds to a minute). What the workers share (one Bugsink, one
# image build, one pair of installs) is made once, under a lock (tests/conftest.py)
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
	$(BIN)/python $(PIP) install 'atheris>=3.0,<4'
	$(BIN)/python bench/fuzz_guided.py

examples: $(INSTALLED)
	$(BIN)/python examples/make_examples.py

clean:
	rm -rf $(VENV) .venv-latest .venv-lowest bench/out .pytest_cache .mypy_cache .ruff_cache .hypothesis
