# JobLink: `make run` (embedded, needs only Python) and `make test` (starts PostgreSQL and Kafka).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export JOBLINK_VAR ?= $(CURDIR)/var

.PHONY: help venv run migrate test bench demo jobfair up down lock clean

help:
	@echo "make run      embedded runtime on http://127.0.0.1:$(PORT) (Swagger UI at /docs)"
	@echo "make test     the whole suite against real PostgreSQL and Kafka (started and stopped here)"
	@echo "make up/down  PostgreSQL, Kafka and every service as its own process"
	@echo "make migrate  apply database migrations of every service"
	@echo "make bench    benchmarks (docs/benchmarks.md)"
	@echo "make demo     load a demo population into the running make run (PORT=…)"
	@echo "make jobfair  allocate the next job fair's invitations (FAIR=<id> for another), write its report"

venv: $(VENV)/.installed

# Installs exactly the versions of requirements.lock (ranges live in pyproject.toml).
$(VENV)/.installed: pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -c requirements.lock -e ".[test]"
	@touch $@

migrate: venv
	$(PY) -m kit.cli migrate all

run: venv migrate
	$(PY) -m kit.cli serve embedded --port $(PORT)

test: venv
	deploy/local/browser.sh
	deploy/local/with-infra.sh env JOBLINK_TEST_REQUIRE_INFRA=1 $(PY) -m pytest -q --durations=15 $(PYTEST_ARGS)

bench: venv
	$(PY) -m bench.reference
	deploy/local/with-infra.sh $(PY) -m bench.messaging
	deploy/local/with-infra.sh $(PY) -m bench.units
	deploy/local/with-infra.sh $(PY) -m bench.candidates_import --rows 5000
	$(PY) -m bench.matching city
	deploy/local/with-infra.sh $(PY) -m bench.matching online
	deploy/local/with-infra.sh $(PY) -m bench.matching freshness
	$(PY) -m bench.jobfair
	deploy/local/with-infra.sh $(PY) -m bench.notifications
	deploy/local/with-infra.sh $(PY) -m bench.jobfair --publish 100000

# A small deterministic population in the import formats, loaded into the platform that
# `make run` serves on $(PORT) (candidates today; employers and vacancies with their import).
demo: venv
	mkdir -p $(JOBLINK_VAR)/demo
	$(PY) -m reference.population candidates --count 500 --seed 1 --as-of $$(date +%F) -o $(JOBLINK_VAR)/demo/candidates.csv
	$(PY) -m reference.population employers --count 40 --seed 1 --as-of $$(date +%F) -o $(JOBLINK_VAR)/demo/employers.csv
	$(PY) -m reference.population vacancies --count 40 --seed 1 --as-of $$(date +%F) -o $(JOBLINK_VAR)/demo/vacancies.csv
	$(PY) deploy/local/load_demo.py --base http://127.0.0.1:$(PORT) --var $(JOBLINK_VAR)

jobfair: venv
	$(PY) -m services.matching.cli jobfair $(FAIR)

up: venv
	deploy/local/up.sh

down:
	deploy/local/down.sh

lock:
	$(PY) -m pip freeze --exclude-editable --disable-pip-version-check | grep -iv '^pyinstrument' > requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache
