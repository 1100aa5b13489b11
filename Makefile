# The two commands: `make run` and `make test`. Both set up .venv themselves from a bare Python.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run test lint services browser bench clean

$(STAMP): requirements.txt requirements-dev.txt
	@scripts/ensure-python-venv $(PYTHON)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/flask --app bot migrate
	$(BIN)/flask --app bot seed-demo
	@scripts/what-to-try $(HOST) $(PORT)
	$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers 2 --preload --access-logfile - bot.wsgi:app

services:
	@scripts/ensure-services

browser:
	@scripts/ensure-chromium

lint: install
	$(BIN)/ruff check .

test: install services browser lint
	$(BIN)/pytest

bench: install services
	$(BIN)/python bench/import_cases.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
