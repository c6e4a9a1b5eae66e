# dinhdanh: `make run` to try it, `make test` to check it.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup run test lint format messages bench clean

$(STAMP): pyproject.toml
	@$(PY) -c 'import sys; assert sys.version_info >= (3, 11), "dinhdanh needs Python 3.11+"'
	@$(PY) -m venv $(VENV) || { echo "error: cannot create a virtualenv: apt-get install python3-venv" >&2; exit 1; }
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	@touch $(STAMP)

setup: $(STAMP)

# The demo: issuer localhost, not 127.0.0.1 (browsers refuse passkeys on an IP address), and
# env dev, so enrolment's SMS codes can be read on /dev/outbox. Either can be overridden.
run: setup
	export DINHDANH_ISSUER="$${DINHDANH_ISSUER:-http://localhost:8000}" \
	       DINHDANH_ENV="$${DINHDANH_ENV:-dev}"; \
	$(BIN)/dinhdanh init && $(BIN)/dinhdanh demo && exec $(BIN)/dinhdanh serve

test: setup
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

# Translations: extract the texts marked in templates and web code (babel.cfg) into a .pot,
# merge it into the vi and en catalogs, then fill the new vi msgstr (tests/web/test_i18n.py).
LOCALE := src/dinhdanh/web/locale
messages: setup
	@mkdir -p build
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --omit-header \
	    -o build/messages.pot src/dinhdanh/web
	$(BIN)/pybabel update -i build/messages.pot -d $(LOCALE) -D messages \
	    --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date

# Full scale, about an hour on 2 vCPUs; inputs are generated once into benchmarks/out/.
bench: setup
	$(BIN)/python benchmarks/import_citizens.py
	$(BIN)/python benchmarks/import_subscriptions.py
	$(BIN)/python benchmarks/reconcile.py
	$(BIN)/python benchmarks/oidc.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
