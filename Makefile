# Two commands for a newcomer: `make run` and `make test`. Only Python 3.11 is needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run dev seed bench test lint lock lock-check format migrate messages clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

## Installs from the hash-pinned locks (README "Dependencies"): pip checks every file's sha256
## and installs nothing the lock does not list. `make run` needs only requirements.txt;
## requirements-dev.txt (tests, lint, tools) holds all of it plus the rest.
$(VENV)/.run-installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --disable-pip-version-check -q --require-hashes -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt | $(BIN)/activate
	$(BIN)/pip install --disable-pip-version-check -q --require-hashes -r requirements-dev.txt
	touch $@

migrate: $(VENV)/.run-installed
	DEBUG=$${DEBUG-1} $(BIN)/python manage.py migrate --noinput

## Serve HTTP (and WebSocket) on $(HOST):$(PORT) through the server entry point (imserver/serve.py:
## daphne with the server overrides); DEBUG=1 unless set. No absolute socket lifetime (daphne's
## default is 24 h): tokens and the idle timeout bound sockets.
## Without SECRET_KEY, tokens are signed with a random key made on first run in .dev-secret
## (git-ignored; imserver/settings.py). For this machine only: keep HOST on loopback.
run: migrate
	DEBUG=$${DEBUG-1} $(BIN)/python -m imserver.serve --workers 1 --host $(HOST) --port $(PORT)

## For development: the same address, restarted on every change to the code. Django's runserver
## as the daphne app runs it (ASGI: HTTP and /ws in one process, static files from the apps);
## DEBUG=1 unless set. Stock libraries: no server overrides and no process tuning (README,
## "Server overrides"), so measure and run real servers with `make run` / imserver.serve.
dev: migrate
	DEBUG=$${DEBUG-1} $(BIN)/python manage.py runserver $(HOST):$(PORT)

## Demo users, friendships, a group, messages and a file (manage.py seed_demo; idempotent).
seed: migrate
	DEBUG=$${DEBUG-1} $(BIN)/python manage.py seed_demo

## The benchmark (bench/run.py): starts its own server stack, PostgreSQL + Redis when
## DATABASE_URL / REDIS_URL are set; writes docs/benchmarks/<BENCH_LABEL, default latest>.{json,md,svg}.
bench: $(VENV)/.dev-installed
	$(BIN)/pip install --disable-pip-version-check -q -r bench/requirements.txt
	$(BIN)/python -m bench.run

## The whole suite on the embedded defaults, or on DATABASE_URL / REDIS_URL when set. In two
## processes (pytest-xdist, each test file whole in one); on Redis each takes databases of its own
## on REDIS_URL's server and its own channel-layer prefix (tests/support/redis_dbs.py), on
## PostgreSQL its own test database (pytest-django's per-worker suffix).
TEST_WORKERS ?= 2
test: $(VENV)/.dev-installed
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

## Ruff, the import contracts of .importlinter (the layers of docs/architecture.md), mypy with
## the Django and DRF stubs (pyproject.toml [tool.mypy]; the plugin loads the settings, hence
## DEBUG=1), and the locks against their inputs.
lint: $(VENV)/.dev-installed lock-check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache --no-logo
	DEBUG=1 $(BIN)/mypy

## Compile requirements*.in into the hash-pinned requirements*.txt (scripts/lock.py, uv). Keeps
## every version already pinned; LOCK_ARGS="--upgrade-package NAME" (or --upgrade) moves one (all).
lock: $(VENV)/.dev-installed
	$(BIN)/python scripts/lock.py $(LOCK_ARGS)

## Fails when a lock does not match its input (a fresh compile differs). CI runs it first.
lock-check: $(VENV)/.dev-installed
	$(BIN)/python scripts/lock.py --check

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Refresh the zh-hans catalogues after adding messages (needs GNU gettext). Each app keeps its
## own catalogue in <app>/locale; imserver/ keeps the shared one.
LOCALE_DIRS := imserver accounts social groups chat files
messages: $(VENV)/.dev-installed
	for dir in $(LOCALE_DIRS); do \
	  mkdir -p $$dir/locale && (cd $$dir && ../$(BIN)/django-admin makemessages -l zh_Hans) || exit 1; \
	done
	$(BIN)/django-admin compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache .ruff_cache
