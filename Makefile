# Two commands for a newcomer: `make run` and `make test`. Only Python 3.11 is needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run seed bench test lint format migrate messages clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

migrate: $(VENV)/.installed
	DEBUG=$${DEBUG-1} $(BIN)/python manage.py migrate --noinput

## Serve HTTP (and WebSocket) on $(HOST):$(PORT) through the server entry point (imserver/serve.py:
## daphne with the server overrides); DEBUG=1 unless set. No absolute socket lifetime (daphne's
## default is 24 h): tokens and the idle timeout bound sockets.
## Without SECRET_KEY, tokens are signed with a random key made on first run in .dev-secret
## (git-ignored; imserver/settings.py). For this machine only: keep HOST on loopback.
run: migrate
	DEBUG=$${DEBUG-1} $(BIN)/python -m imserver.serve --workers 1 --host $(HOST) --port $(PORT)

## Demo users, friendships, a group, messages and a file (manage.py seed_demo; idempotent).
seed: migrate
	DEBUG=$${DEBUG-1} $(BIN)/python manage.py seed_demo

## The benchmark (bench/run.py): starts its own server stack, PostgreSQL + Redis when
## DATABASE_URL / REDIS_URL are set; writes docs/benchmarks/<BENCH_LABEL, default latest>.{json,md,svg}.
bench: $(VENV)/.installed
	$(BIN)/pip install --disable-pip-version-check -q -r bench/requirements.txt
	$(BIN)/python -m bench.run

## The whole suite on the embedded defaults, or on DATABASE_URL / REDIS_URL when set.
test: $(VENV)/.installed
	$(BIN)/pytest $(PYTEST_ARGS)

## Ruff, and the import contracts of .importlinter (the layers of docs/architecture.md).
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache --no-logo

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Refresh the zh-hans catalogues after adding messages (needs GNU gettext). Each app keeps its
## own catalogue in <app>/locale; imserver/ keeps the shared one.
LOCALE_DIRS := imserver accounts social groups chat files
messages: $(VENV)/.installed
	for dir in $(LOCALE_DIRS); do \
	  mkdir -p $$dir/locale && (cd $$dir && ../$(BIN)/django-admin makemessages -l zh_Hans) || exit 1; \
	done
	$(BIN)/django-admin compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache .ruff_cache
