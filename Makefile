# Keyfax SSO. The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
EMULATOR_PORT ?= 8001

.PHONY: run test lint install browsers screenshots clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $@

tests/interop/node_modules/.package-lock.json: tests/interop/package-lock.json
	cd tests/interop && npm ci --no-audit --no-fund --loglevel=error

install: $(BIN)/.installed

## Debian's Chromium for the real-browser tests (Playwright cannot download browsers here).
browsers:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Install Debian's chromium (sudo apt-get install chromium) for the browser tests"; exit 1; fi; }

## Run the site on http://127.0.0.1:$(PORT) with the development Entra emulator.
run: $(BIN)/.installed
	$(BIN)/python -m keyfax_site.devserver --port $(PORT) --emulator-port $(EMULATOR_PORT)

## Lint and run the whole test suite (SQLite, or DATABASE_URL when set).
test: $(BIN)/.installed tests/interop/node_modules/.package-lock.json browsers
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest

## Refresh docs/screenshots/ (shown in the README) from the real-browser tests.
screenshots: $(BIN)/.installed browsers
	KEYFAX_SCREENSHOTS=docs $(BIN)/pytest -q -m browser

## Lint: ruff, and the import layers of DESIGN.md (import-linter).
lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

clean:
	rm -rf $(VENV) tests/interop/node_modules
