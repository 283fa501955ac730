# deployserver: `make run` (embedded server with the AWS sandbox) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

# Test services: PostgreSQL and Redis on this machine unless told otherwise.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/deployserver
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
TEST_ENV = DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_REDIS_URL) \
	CELERY_RESULT_BACKEND=$(TEST_REDIS_URL) CACHE_URL=$(TEST_REDIS_URL) \
	SECRET_KEY=test-secret-key DEPLOYSERVER_MASTER_KEY=$$(cat tests/master.key) \
	DJANGO_ALLOW_ASYNC_UNSAFE=true DEPLOYSERVER_ENDPOINT_POLICY=any

.PHONY: install run test test-pure lint

$(VENV)/.installed: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[sandbox,test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) -m deployserver.embedded

test: install
	$(TEST_ENV) $(VENV)/bin/pytest $(PYTEST_ARGS)

# The tests that need no service (no database, broker, cache, AWS, registry or browser).
PURE_ENV = DATABASE_URL=sqlite:// CELERY_BROKER_URL=memory:// CACHE_URL=locmemcache:// \
	SECRET_KEY=test-secret-key DEPLOYSERVER_MASTER_KEY=$$(cat tests/master.key)

test-pure: install
	$(PURE_ENV) $(VENV)/bin/pytest -m "not integration" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
