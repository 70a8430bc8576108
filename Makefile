# Nova Corrente: two commands.  `make run` sets up and runs the daily cycle;  `make test` runs the tests.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test ui install browser lint bench down clean

run: $(STAMP)            ## set up everything, start Postgres, materialize the daily cycle once
	$(BIN)/nova run

test: $(STAMP)           ## set up everything and run the test suite (starts its own Postgres)
	$(BIN)/python -m pytest -q

ui: $(STAMP)             ## web app on :8000 beside the Dagster UI on :3000 and MLflow UI on :5000 (Ctrl-C stops all)
	$(BIN)/nova ui

lint: $(STAMP)
	$(BIN)/ruff format --check nova_assets tests bench
	$(BIN)/ruff check nova_assets tests bench

down:                    ## stop the project-local PostgreSQL
	$(BIN)/nova services down

install: $(STAMP)

# Debian's Chromium for the browser tests (Playwright drives it; `playwright install` cannot download here).
CHROMIUM := /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null || { \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core; }
	@test -x $(CHROMIUM) || echo "chromium is missing (not root, or no apt-get): the browser tests will be skipped"

# The environment is rebuilt only when the pins change. torch is pinned to the CPU build.
$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev,deploy]"
	touch $(STAMP)

clean:                   ## remove generated data (keeps the snapshots) and the environment
	-$(BIN)/nova services down
	rm -rf data/lake data/landing data/dagster data/postgres data/postgres-test $(VENV) .env
