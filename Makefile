SHELL := /bin/bash
UV = $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PYTEST_ARGS ?=

.PHONY: help install services migrate run test web-check test-unit test-e2e test-browser bench drills checks web openapi browser deploy-check docs-check

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

install: ## install uv and the locked Python environment (and the web app's packages)
	@bash scripts/ensure-uv.sh
	@if [ -f web/package-lock.json ]; then cd web && npm ci --no-audit --no-fund --loglevel=error; fi

browser: ## install Debian's Chromium for the browser tests (no browser download)
	@command -v chromium >/dev/null 2>&1 || { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || { echo "cannot install chromium with apt-get"; exit 1; }; }

services: ## check that PostgreSQL and RabbitMQ answer, starting them if installed but stopped
	@bash scripts/ensure-services.sh

migrate: install services ## apply every service's migrations to the local database
	@psql -h 127.0.0.1 -U postgres -tc "select 1 from pg_database where datname='metroenergies'" | grep -q 1 || psql -h 127.0.0.1 -U postgres -qc "create database metroenergies"
	@for s in $$($(UV) run python -m metro.services); do $(UV) run python -m $$s migrate || exit 1; done

web: install ## build the web app into web/dist
	@if [ -f web/package.json ]; then cd web && npm run build --silent; fi

run: install services web ## start everything locally with the DSO sandboxes and a demo resident
	@$(UV) run python scripts/run_local.py

test: install services browser web web-check ## the whole suite: unit, integration, end-to-end and browser tests
	@$(UV) run pytest -q $(PYTEST_ARGS)

web-check: install ## the web app's ESLint (jsx-a11y included) and its component tests (vitest)
	@if [ -f web/package.json ]; then cd web && npm run lint --silent && npm run test:unit --silent; fi

test-unit: install ## fast tests without processes
	@$(UV) run pytest -q -m "not e2e and not browser" libs services tests/sandboxes $(PYTEST_ARGS)

test-e2e: install services ## end-to-end tests over real processes
	@$(UV) run pytest -q tests/e2e $(PYTEST_ARGS)

bench: install services ## every benchmark, printing figures beside their baselines
	@for b in $(patsubst bench/%.py,bench.%,$(filter-out bench/__init__.py,$(wildcard bench/*.py))); do echo "== $$b"; $(UV) run python -m $$b || exit 1; done

deploy-check: ## render every deploy/ overlay, validate it (Kubernetes and operators' schemas), checkov, hadolint, and start every service's settings from it
	@bash scripts/ensure-uv.sh
	@$(UV) run --frozen --quiet --project deploy/tools python deploy/check.py
	@$(UV) run pytest -q tests/deploy $(PYTEST_ARGS)

drills: install services ## outage drill (restarts the local PostgreSQL and RabbitMQ!) and API fuzzing, printing figures
	@$(UV) run python -m drills.outage
	@if [ -f drills/fuzz.py ]; then $(UV) run python -m drills.fuzz --cases 10000; fi

checks: ## service boundaries and API contract (the contract needs `make run` running)
	@python3 ../shared/checks/boundaries.py .
	@python3 ../shared/checks/api_contract.py http://127.0.0.1:8000 || true

docs-check: install ## run the runnable procedures of docs/ against `make run` (DOCS_CHECK_ARGS=--start: a stack of its own)
	@$(UV) run python scripts/docs_check.py $(DOCS_CHECK_ARGS)

openapi: install ## write the gateway's OpenAPI document to web/openapi.json
	@$(UV) run python scripts/openapi.py > web/openapi.json
