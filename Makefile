# The README's two commands: `make run` and `make test`. Both set up everything they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install install-production run test lint lock graphiql browser

# Reinstalls only when the lock file changes.
$(VENV)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $@

install: $(VENV)/.installed

# Production: the main dependencies only (no test or lint tools), each file checked against its
# hash in requirements.prod.lock.
install-production:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.prod.lock

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo ""
	@echo "Mana is starting at http://$(HOST):$(PORT)/graphql/   (admin console: http://$(HOST):$(PORT)/admin/)"
	@echo ""
	$(PY) manage.py runserver $(HOST):$(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(PY) manage.py makemigrations --check --dry-run

test: lint browser
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Debian's Chromium and ChromeDriver, which tests/test_admin_browser.py drives (selenium): installed
# when missing (apt-get, as root: CI's machine and the developers' are root). If it cannot be
# installed, the suite still runs and those tests fail saying so.
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; else \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) \
			|| echo "make browser: could not install chromium and chromium-driver (apt-get, as root)"; fi

# Regenerate the locks after changing pyproject.toml's dependencies: requirements.lock (everything,
# development tools too) and requirements.prod.lock (the main dependencies only, with hashes, at the
# versions of requirements.lock).
lock: install
	$(PY) -m pip install --quiet pip-tools
	$(VENV)/bin/pip-compile --quiet --strip-extras --extra dev --extra bench --extra mutation -o requirements.lock pyproject.toml
	$(VENV)/bin/pip-compile --quiet --strip-extras --generate-hashes --constraint requirements.lock \
		-o requirements.prod.lock pyproject.toml

# GraphiQL's files (schema/graphiql/static/), fetched again from the npm registry at the versions and
# hashes its page pins (schema/graphiql/templates/graphql/graphiql.html); needs npm. Only when
# those change: the files are committed, so that `make run` works without the internet.
graphiql:
	$(PY) schema/graphiql/vendor.py
