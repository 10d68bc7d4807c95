# Two commands (see README): `make run` runs the shop, `make test` runs the tests.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000

# Tests and benchmarks talk to real PostgreSQL and Redis.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/shop
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/shop_bench
TEST_REDIS_URL    ?= redis://127.0.0.1:6379/0

.PHONY: run test hostile bench venv clean messages

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

# Compile the Russian catalogues (locale/, the apps' locale/). The compiled .mo files are
# committed too, so a machine without gettext's msgfmt still shows a Russian shop.
messages: venv
	@if command -v msgfmt >/dev/null 2>&1; then \
	  $(PY) manage.py compilemessages --ignore=.venv --ignore=var --ignore=staticfiles -v 0; \
	else echo "msgfmt (gettext) is not installed: the committed .mo files are used"; fi

## Run the shop on http://$(HOST):$(PORT) with the embedded default (SQLite, tasks in-process).
run: venv messages
	$(PY) manage.py migrate --noinput
	SITE_DOMAIN=$${SITE_DOMAIN:-$(HOST):$(PORT)} $(PY) manage.py setup_shop --demo
	$(PY) manage.py demo_exchange --url http://$(HOST):$(PORT) --wait-for-server --if-empty &
	$(PY) manage.py runserver $(HOST):$(PORT)

## Run the test suite on PostgreSQL and Redis.
test: venv messages
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) DEBUG=true \
	  $(PY) -m pytest $(PYTEST_ARGS)

## The hostile-input and fault suite (tests/hostile, marker "hostile"): real Celery workers
## killed with kill -9, a refusing broker and database, cut and oversized uploads, login
## floods, hostile content. Prints "N cases, N answered cleanly, 0 changed the catalogue".
hostile: venv
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) DEBUG=true \
	  $(PY) -m pytest -m hostile -q $(PYTEST_ARGS) tests/hostile

## Benchmarks: full, repeated and changes-only exchanges of generated catalogues over HTTP,
## each full package also through the write floor (parse + COPY + picture copy) for the ratio.
## The storefront round draws the cards of the catalogue the exchanges left, with its pictures.
BENCH_FLOOR ?= ../shared/bench/floor_copy.py
BENCH_MEDIA ?= var/bench-media
bench: venv
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) DEBUG=false SECRET_KEY=bench ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=false \
	  $(PY) manage.py bench_exchange --floor $(BENCH_FLOOR) --media $(BENCH_MEDIA) $(BENCH_ARGS)
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) DEBUG=false SECRET_KEY=bench ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=false \
	  MEDIA_ROOT=$(BENCH_MEDIA) $(PY) manage.py bench_storefront $(BENCH_STOREFRONT_ARGS)

clean:
	rm -rf $(VENV) var staticfiles
