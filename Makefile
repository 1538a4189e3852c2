# billops: `make run` builds and serves the demo company; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENDOR := src/billops/web/static/web/vendor
PORT ?= 8000
MESSAGES := $(patsubst %.po,%.mo,$(wildcard src/billops/locale/*/LC_MESSAGES/django.po))

.PHONY: install run test lint test-sqlite test-postgresql test-deps bench clean

install: $(VENV)/.installed $(VENDOR)/htmx.min.js $(MESSAGES)

$(VENV)/.installed: pyproject.toml
	tools/ensure_debian_packages.sh nodejs:node npm:npm \
		libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core poppler-utils:pdftoppm
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# static assets come from the npm registry at build time, never from a CDN
$(VENDOR)/htmx.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js

# translations are compiled on install, never committed
$(MESSAGES) &: $(MESSAGES:.mo=.po) $(VENV)/.installed
	tools/ensure_debian_packages.sh gettext:msgfmt
	BILLOPS_VAR_DIR=$$(mktemp -d) $(BIN)/django-admin compilemessages --settings=billops.settings \
		--ignore=.venv --ignore=node_modules

run: install
	$(BIN)/billops migrate
	$(BIN)/billops demo --seed 1
	$(BIN)/billops serve --port $(PORT)

# Debian's Chromium for the browser tests, PostgreSQL for the second pass
test-deps:
	tools/ensure_debian_packages.sh chromium:chromium postgresql:/usr/lib/postgresql redis-server:redis-server

lint: install
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/mypy src
	BILLOPS_VAR_DIR=$$(mktemp -d) $(BIN)/django-admin makemigrations --check --dry-run --settings=billops.settings

test-sqlite: install test-deps
	@echo "=== test suite on SQLite ==="
	BILLOPS_DATABASE_URL=sqlite:///:memory: $(BIN)/pytest

test-postgresql: install test-deps
	@echo "=== test suite on PostgreSQL (throwaway cluster) ==="
	$(BIN)/python tools/throwaway_postgres.py -- $(BIN)/pytest

test: lint test-sqlite test-postgresql

bench: install
	$(BIN)/python bench/ledger_balances.py --db sqlite
	$(BIN)/python bench/ledger_balances.py --db postgresql
	$(BIN)/python bench/issue_online.py --db sqlite
	$(BIN)/python bench/issue_online.py --db postgresql
	cd bench && ../$(BIN)/python bill_run.py --db sqlite && ../$(BIN)/python bill_run.py --db postgresql
	cd bench && ../$(BIN)/python cash_application.py --db sqlite && ../$(BIN)/python cash_application.py --db postgresql

clean:
	rm -rf $(VENV) node_modules $(VENDOR) build *.egg-info
