# Every target installs what it needs first; only Python 3.11 must already be on the machine.
.DEFAULT_GOAL := help
SHELL := bash

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# A server the tests may create and drop scratch databases on.
POSTGRES_TEST_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

.PHONY: help install install-serve run test test-postgres lint fmt migrate migration rollback \
	seed clean clean-data copy-to-postgres

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Two stamps: serving needs only the main dependencies; the development tools come with
# `.installed`. --inexact keeps development tools that are already there, so `make run`
# after `make test` removes nothing and `make test` after `make run` still installs them.
$(VENV)/.installed-serve: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --no-dev --inexact --python $(PYTHON)
	@touch $@

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@ $(VENV)/.installed-serve

install: $(VENV)/.installed ## Install the app and its development tools into .venv

install-serve: $(VENV)/.installed-serve ## Install only what serving needs into .venv

run: migrate ## Migrate and serve the API (docs at /docs); honours AUTH_MODE, HOST, PORT, DATABASE_URL
	$(BIN)/python -m app

test: install ## Run the whole test suite on SQLite
	$(BIN)/pytest $(ARGS)

test-postgres: install ## Run the whole test suite on PostgreSQL (POSTGRES_TEST_URL)
	TEST_DATABASE_URL=$(POSTGRES_TEST_URL) $(BIN)/pytest $(ARGS)

lint: install ## Check style, formatting and types
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

# The OpenAPI linter comes from the npm registry, at the versions package-lock.json pins; like
# the Python stamps, this one reinstalls only when the lock changes. No package needs its
# install scripts.
node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

.PHONY: lint-openapi
lint-openapi: install-serve node_modules/.installed ## Lint the OpenAPI document with Spectral's OAS and OWASP rulesets
	$(BIN)/python -m app.commands.openapi --output build/openapi.json
	node_modules/.bin/spectral lint --ruleset .spectral.yaml --fail-severity error build/openapi.json

fmt: install ## Fix formatting and what the linter can fix
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

.PHONY: docs docs-build
docs: install ## Serve the documentation site at http://127.0.0.1:8001, rebuilt on every change
	$(BIN)/mkdocs serve

docs-build: install ## Build the documentation site into site/, failing on any warning (a broken link)
	$(BIN)/mkdocs build --strict

migrate: install-serve ## Upgrade the database to the newest migration
	@mkdir -p data
	$(BIN)/alembic upgrade head

migration: install ## Create a migration from model changes: make migration msg="add a column"
	@test -n "$(msg)" || { echo 'usage: make migration msg="what changes"'; exit 2; }
	@mkdir -p data
	$(BIN)/alembic revision --autogenerate -m "$(msg)"

rollback: install-serve ## Undo the newest migration
	$(BIN)/alembic downgrade -1

seed: migrate ## Load a demo catalogue of a few hundred authors and books
	$(BIN)/python -m app.commands.seed

.PHONY: key
key: migrate ## Make an API key and print it: make key NAME=me SCOPE=admin [DAYS=90]
	@test -n "$(NAME)" -a -n "$(SCOPE)" || { echo 'usage: make key NAME=who SCOPE=read|write|admin [DAYS=n]'; exit 2; }
	@$(BIN)/python -m app.keys create --name '$(NAME)' --scope '$(SCOPE)' $(if $(DAYS),--expires-in-days '$(DAYS)')

.PHONY: backup
backup: install-serve ## Copy the SQLite database, even while it serves: make backup [BACKUP=path]
	$(BIN)/python -m app.commands.backup $(BACKUP)

.PHONY: import export
import: install-serve ## Import a CSV or NDJSON file of books: make import FILE=books.csv [ARGS="--on-duplicate update"]
	@test -n "$(FILE)" || { echo 'usage: make import FILE=books.csv [ARGS="--on-duplicate skip --dry-run"]'; exit 2; }
	$(BIN)/python -m app.imports '$(FILE)' $(ARGS)

export: install-serve ## Export the books in the import format: make export [OUT=books.ndjson] [ARGS="--format csv"]
	$(BIN)/python -m app.exports $(if $(OUT),--output '$(OUT)') $(ARGS)

.PHONY: fuzz
fuzz: install ## Fuzz every API operation with schemathesis, a bounded number of cases each
	$(BIN)/pytest tests/faults/fuzz_schema.py $(ARGS)

bench: install ## Run the load benchmark against a seeded database (make bench ARGS="--scale 1000000")
	$(BIN)/python -m bench $(ARGS)

.PHONY: bench-imports
bench-imports: install ## Time imports of N books against a raw executemany (make bench-imports ARGS="--scale 1000000")
	$(BIN)/python -m bench.imports $(ARGS)

# The SQLite database `make copy-to-postgres` copies unless FROM names another.
FROM ?= sqlite+aiosqlite:///./data/folio.db

# The target must be empty and migrated first: DATABASE_URL=<TO> make migrate
copy-to-postgres: install-serve ## Copy SQLite into an empty, migrated PostgreSQL: make copy-to-postgres TO=...
	@test -n "$(TO)" || { echo 'usage: make copy-to-postgres TO=postgresql+asyncpg://user@host/db [FROM=$(FROM)]'; exit 2; }
	$(BIN)/python -m app.commands.copy_database --from '$(FROM)' --to '$(TO)'

clean: ## Remove the virtual environments, node modules and caches; ./data is kept
	rm -rf .uv $(VENV) node_modules build .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

clean-data: ## Delete ./data: the SQLite database, its -wal and -shm files and its backups
	@echo "Deleting ./data: the SQLite database, its -wal and -shm files and every backup in it"
	rm -rf data
