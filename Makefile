# Gaitu: `make run` starts everything, `make test` checks everything.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export HOST ?= 127.0.0.1
export PORT ?= 8000

# The first Python >= 3.12 found: $PYTHON, pyenv's 3.13/3.12, then what is on PATH.
define find_python
for c in "$$PYTHON" "$$(pyenv root 2>/dev/null)/versions/3.13.0/bin/python3" \
         "$$(pyenv root 2>/dev/null)/versions/3.12.1/bin/python3" python3.13 python3.12 python3; do \
  if [ -n "$$c" ] && command -v "$$c" >/dev/null 2>&1 && \
     "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
    echo "$$c"; exit 0; fi; \
done; exit 1
endef

.PHONY: run test test-embedded test-scale lint format bench messages clean

# Any of these set: the scale-out profile (PostgreSQL, Redis, S3), whose libraries `make run`
# then installs by itself.
SCALE_OUT := $(strip $(DATABASE_URL)$(GAITU_QUEUE_URL)$(GAITU_S3_BUCKET))

$(VENV)/.python:
	@py=$$($(find_python)) || { echo "Gaitu needs Python 3.12 or newer, and none was found." \
	  "Install one (for example: pyenv install 3.13) or point PYTHON at it: make run PYTHON=/path/to/python3.13" >&2; exit 1; }; \
	if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then rm -rf $(VENV); fi; \
	echo "Creating $(VENV) with $$py ($$($$py --version))"; \
	$$py -m venv $(VENV) && touch $@

$(VENV)/.runtime: $(VENV)/.python requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.scale: $(VENV)/.runtime requirements-scale.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-scale.txt
	@touch $@

$(VENV)/.dev: $(VENV)/.scale requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

run: $(VENV)/.runtime $(if $(SCALE_OUT),$(VENV)/.scale)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	exec $(PY) manage.py serve

# The whole suite on the embedded default, then all but the browser tests again on real
# PostgreSQL, Redis and S3 servers that the run starts itself (tests/support/scale_profile.py);
# tests about SQLite or the local disk are for the embedded profile only.
test: test-embedded test-scale

test-embedded: $(VENV)/.dev node_modules/.installed
	$(PY) -m pytest

test-scale: $(VENV)/.dev node_modules/.installed
	$(PY) -m tests.support.scale_profile -m "not browser and not embedded_only"

# s3rver, the S3 server of the scale-out test profile (package.json).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	@touch $@

lint: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

format: $(VENV)/.dev
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

messages: $(VENV)/.dev
	$(PY) manage.py makemessages --locale zh_Hans --ignore '.venv/*' --ignore 'data/*'
	$(PY) manage.py makemessages --locale zh_Hans --domain djangojs --ignore '.venv/*' --ignore 'data/*'
	$(PY) manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

bench: $(VENV)/.dev
	$(PY) bench/run.py

screenshots: $(VENV)/.dev
	$(PY) tools/screenshots.py
