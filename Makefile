# Nova Corrente: two commands.  `make run` sets up and runs the daily cycle;  `make test` runs the tests.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test ui install lint bench down clean

run: $(STAMP)            ## set up everything, start Postgres, materialize the daily cycle once
	$(BIN)/nova run    # progress by layer; the full event log goes to data/logs/ (`nova run --verbose` prints it)

test: $(STAMP)           ## set up everything and run the test suite (starts its own Postgres)
	$(BIN)/python -m pytest -q

ui: $(STAMP)             ## Dagster UI on :3000 and MLflow UI on :5000 (Ctrl-C stops both)
	$(BIN)/nova ui

lint: $(STAMP)
	$(BIN)/ruff format --check nova_assets tests bench
	$(BIN)/ruff check nova_assets tests bench

down:                    ## stop the project-local PostgreSQL
	$(BIN)/nova services down

install: $(STAMP)

# The environment is rebuilt only when the pins change. torch is pinned to the CPU build.
$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev,deploy]"
	touch $(STAMP)

clean:                   ## remove generated data (keeps the snapshots) and the environment
	-$(BIN)/nova services remove
	rm -rf data/lake data/landing data/dagster data/postgres data/postgres-test $(VENV) .env
