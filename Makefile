# Portal Ciudadano. The README's two commands are `make run` and `make test`;
# every other target is a step of those two, or a tool for developers.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= localhost
PORT ?= 5000
AGENCY_PORT ?= 5001
export FLASK_APP := wsgi

.DEFAULT_GOAL := help

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed: install python3.11 (and python3.11-venv), or run: make PYTHON=/path/to/python3.11 ..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed-test
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test,bench]'
	touch $@

install: $(VENV)/.installed  ## Create .venv and install the portal

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

browser:  ## Install Debian's chromium and chromium-driver when missing (needs root)
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	else \
		echo "The browser tests need Debian's chromium and chromium-driver."; \
		echo "Run as root, or first: sudo apt-get install chromium chromium-driver"; exit 1; \
	fi

bench-tools:  ## Install Debian's wrk and nginx when missing (needs root)
	@if command -v wrk >/dev/null && command -v nginx >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx; \
	else \
		echo "The benchmarks need Debian's wrk and nginx."; \
		echo "Run as root, or first: sudo apt-get install wrk nginx"; exit 1; \
	fi

compile-translations: $(VENV)/.installed  ## Compile translations/*.po into .mo files
	$(BIN)/pybabel compile -d translations

messages: $(VENV)/.installed  ## Extract strings into messages.pot and merge them into every catalogue
	$(BIN)/pybabel extract -F babel.cfg --sort-by-file --add-location=file --project "Portal Ciudadano" --copyright-holder "Portal Ciudadano" --msgid-bugs-address "i18n@portal.example" -k _l -k lazy_gettext -k ngettext:1,2 -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

migrate: $(VENV)/.installed  ## Apply database migrations (DATABASE_URL or SQLite in instance/)
	$(BIN)/flask db upgrade

# The developer's targets run on the embedded defaults, which production mode (the
# default) refuses; target-specific, so their `migrate` prerequisite runs the same way.
run agency-demo: export PORTAL_ENV = development

run: $(VENV)/.installed compile-translations migrate  ## Set up and serve the portal with demo data on http://$(HOST):$(PORT)
	PORTAL_ENV=development $(BIN)/flask demo load
	@echo
	@echo "Portal Ciudadano is at http://$(HOST):$(PORT)/  (Ctrl+C stops it)"
	@echo
	PORTAL_ENV=development $(BIN)/flask run --host $(HOST) --port $(PORT)

serve: $(VENV)/.installed compile-translations migrate  ## Production: gunicorn (gunicorn.conf.py) on http://$(HOST):$(PORT), configured by the environment (README)
	$(BIN)/gunicorn --config gunicorn.conf.py --bind $(HOST):$(PORT)

worker: $(VENV)/.installed compile-translations  ## Production: the worker that sends every email and runs the reminders and clean-ups (README: Email and the worker)
	env -u PROMETHEUS_MULTIPROC_DIR $(BIN)/flask worker

agency-demo: $(VENV)/.installed compile-translations migrate  ## Serve the portal and, on AGENCY_PORT, a demo agency site that signs in through it
	PORTAL_ENV=development $(BIN)/flask demo load
	@echo
	@echo "Portal Ciudadano is at http://$(HOST):$(PORT)/"
	@echo "The demo agency (examples/agency) is at http://$(HOST):$(AGENCY_PORT)/  (Ctrl+C stops both)"
	@echo
	PORTAL_ENV=development $(BIN)/flask run --host $(HOST) --port $(PORT) & portal=$$!; \
	trap 'kill $$portal 2>/dev/null' EXIT INT TERM; \
	PORTAL_URL=http://$(HOST):$(PORT) AGENCY_URL=http://$(HOST):$(AGENCY_PORT) \
		$(BIN)/flask --app examples.agency.app run --host $(HOST) --port $(AGENCY_PORT)

# The suite runs on every core (pytest-xdist): each worker has its own database (a file or a
# PostgreSQL schema), live server and browser, and takes whole files, so a module's shared
# fixtures are built once. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto
PYTEST_PARALLEL = --numprocesses $(TEST_WORKERS) --dist loadfile

test: $(VENV)/.installed-test node_modules/.installed browser compile-translations  ## Install what the tests need, then lint and run the whole suite
	$(BIN)/ruff check .
	$(BIN)/pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS)

test-database: $(VENV)/.installed-test compile-translations  ## The database tests only (.ci/run runs them on PostgreSQL)
	$(BIN)/pytest -m database $(PYTEST_PARALLEL) $(PYTEST_ARGS)

# Each benchmark's standard error (migrations' and servers' logs) is shown only if it fails;
# each stops the servers it started, however it ends. BENCH_SECONDS=60 for steadier figures.
bench: $(VENV)/.installed-bench bench-tools compile-translations  ## Run the benchmarks in bench/ and print their figures (PostgreSQL and Redis on 127.0.0.1)
	@log=$$(mktemp); trap 'rm -f "$$log"' EXIT; \
	for script in bench/*.py; do \
		echo "== $$script"; \
		$(BIN)/python $$script 2>"$$log" || { cat "$$log"; exit 1; }; \
		echo; \
	done

lint: $(VENV)/.installed-test  ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

.PHONY: help install browser bench-tools compile-translations messages migrate run serve worker agency-demo test test-database bench lint
