# Nova Corrente: two commands.  `make run` sets up and runs the daily cycle;  `make test` runs the tests.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# dagster-dbt's parsed manifests of the two dbt projects, prepared again whenever a dbt file changes
DBT_MANIFESTS := dbt_project/features/target/manifest.json dbt_project/gold/target/manifest.json
DBT_FILES := $(shell find dbt_project -name target -prune -o -name logs -prune -o -type f \( -name '*.sql' -o -name '*.yml' \) -print)

.PHONY: run test ui install browser lint bench down clean

run: $(STAMP) $(DBT_MANIFESTS)  ## set up everything, start Postgres, materialize the daily cycle once
	$(BIN)/nova run    # progress by layer; the full event log goes to data/logs/ (`nova run --verbose` prints it)

# pytest-xdist workers: each module whole in one, the daily cycle's modules together (tests/conftest.py).
TEST_WORKERS ?= 2
test: $(STAMP) $(DBT_MANIFESTS) browser  ## set up everything and run the test suite (starts its own Postgres)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadscope

ui: $(STAMP) $(DBT_MANIFESTS)  ## web app on :8000 beside the Dagster UI on :3000 and MLflow UI on :5000 (Ctrl-C stops all)
	$(BIN)/nova ui

lint: $(STAMP)
	$(BIN)/ruff format --check nova_assets tests bench
	$(BIN)/ruff check nova_assets tests bench

down:                    ## stop the project-local PostgreSQL
	$(BIN)/nova services down

install: $(STAMP) $(DBT_MANIFESTS)

# Debian's Chromium for the browser tests (Playwright drives it; `playwright install` cannot download here),
# and poppler's pdftotext, with which the tests read the text of the PDF report.
CHROMIUM := /usr/bin/chromium
PDFTOTEXT := /usr/bin/pdftotext
browser:
	@{ test -x $(CHROMIUM) && test -x $(PDFTOTEXT); } || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null || { \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core poppler-utils; }
	@test -x $(CHROMIUM) || echo "chromium is missing (not root, or no apt-get): the browser tests will be skipped"
	@test -x $(PDFTOTEXT) || echo "pdftotext is missing (not root, or no apt-get): the PDF report's text will not be checked"

# The environment is rebuilt only when the pins change. torch is pinned to the CPU build.
# pip byte-compiles the packages on one core (100 s of a 175 s install here); compileall on both cores
# without the packages' own test folders (4,016 of 23,294 files; nothing imports them) takes 57 s, against
# 74 s with them. Some packages ship files that are not Python 3.11 (templates, test data): pip skips them too.
$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --no-compile -c constraints.txt -e ".[dev,deploy]"
	$(BIN)/pip install --quiet --no-compile --no-deps -c constraints.txt stockpyl  # see pyproject.toml's dev extra
	$(BIN)/python -m compileall -qq -j 2 -x "/tests?/" $(VENV)/lib || true
	$(BIN)/pip uninstall --quiet --yes sphinx-jinja2-compat 2>/dev/null || true  # left by an older install
	touch $(STAMP)

# Parsing renders NOVA_LAKE_DIR (the feature profile's warehouse path) but reads nothing there.
$(DBT_MANIFESTS) &: $(STAMP) $(DBT_FILES)
	PATH=$(CURDIR)/$(BIN):$$PATH NOVA_LAKE_DIR=$${NOVA_LAKE_DIR:-$(CURDIR)/data/lake} \
		$(BIN)/dagster-dbt project prepare-and-package --file nova_assets/dbt_projects.py
	touch $(DBT_MANIFESTS)

clean:                   ## remove generated data (keeps the snapshots) and the environment
	-$(BIN)/nova services remove
	rm -rf data/lake data/landing data/dagster data/postgres data/postgres-test $(VENV) .env
