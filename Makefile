# Two commands for a fresh machine: `make demo` runs the whole platform locally, `make test` runs the tests.
# Each creates .venv and installs what it needs; nothing relies on something installed by hand.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint format bench system-deps jvm-archive clean deploy deploy-dry-run

# The real Databricks CLI (tests run `databricks bundle validate/deploy` with it) is not served by a package registry
# here: it comes from ../shared/tools/databricks-cli (see its SOURCE.txt). A clone without ../shared goes without, and
# the CLI tests skip saying so.
DATABRICKS_CLI_SOURCE := ../shared/tools/databricks-cli

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[local,test]'
	touch $(STAMP)

$(BIN)/databricks: | $(STAMP)
	@if [ -f $(DATABRICKS_CLI_SOURCE)/install.sh ]; then bash $(DATABRICKS_CLI_SOURCE)/install.sh $(BIN); \
	else echo "no $(DATABRICKS_CLI_SOURCE): the Databricks CLI tests will be skipped"; fi

venv: $(STAMP) $(BIN)/databricks

# Debian's chromium drives the browser tests (playwright's own browser download is not used).
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

# The local Spark driver's class data sharing archive (local_platform/make_class_archive.py): every new local session
# then maps the classes it would load from jars (~2 s of each process's start). Made once per JDK, pyspark, package
# list and JVM options, in .local/jvm (~45 s); when it exists this does nothing, and when it cannot be made it says so
# and sessions start without it.
jvm-archive: $(STAMP)
	$(BIN)/python -m local_platform.make_class_archive

demo: $(STAMP) jvm-archive
	$(BIN)/energy-platform demo

# Two pytest workers, each a test file at a time with its own Spark session: most of a test's time is per-job and
# per-commit latency on small data, which a second JVM overlaps (fresh clone, 2 vCPUs: see docs/testing.md).
TEST_WORKERS ?= 2
test: venv system-deps jvm-archive
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=40

# The fast loop: tests needing no Spark session, local server, browser or network, and not slow (markers in
# pyproject.toml; tests/conftest.py fails a test that starts Spark or a server without its marker).
FAST_MARKERS := not spark and not server and not browser and not e2e and not network and not slow
test-fast: $(STAMP)
	$(BIN)/pytest -m "$(FAST_MARKERS)" --durations=15 -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The Snowflake deploy (README, "Deploy to a Snowflake account"): each step as its role, through the Snowflake CLI.
#   make deploy-dry-run                       prints every statement and the role it runs as; connects to nothing
#   make deploy CONNECTION=prod DEPLOY_VARS="-D export_url=s3://BUCKET/gold-export/ -D aws_role_arn=ARN ..."
CONNECTION ?= CONNECTION
DEPLOY_VARS ?=
deploy-dry-run: $(STAMP)
	$(BIN)/energy-platform deploy --dry-run --connection $(CONNECTION) $(DEPLOY_VARS)

deploy: $(STAMP)
	$(BIN)/energy-platform deploy --connection $(CONNECTION) $(DEPLOY_VARS)

bench: $(STAMP) jvm-archive
	$(BIN)/python -m bench.run_all

clean:
	rm -rf .local $(VENV)
