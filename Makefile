# Peakshop: every command a developer or CI runs. `make synth` and `make test` set up a fresh Debian
# machine themselves (scripts/setup.sh is idempotent and quick once done).
SHELL := /bin/bash
.DEFAULT_GOAL := help
export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_VERBOSITY := -1
export PATH := $(CURDIR)/.tools/bin:$(PATH)
export BC_SKIP_MAPPING := TRUE
PY := .venv/bin/python
PYTEST := $(PY) -m pytest

.PHONY: help setup synth test lint pytest irsa-doc diagram scan compliance charts snapshots bench-synth clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

setup: ## install everything this project needs (apt, Node 22, pipenv venv, checkov, helm)
	@bash scripts/setup.sh

synth: setup ## synthesize HCL for every stack to cdktf.out/stacks/<stack>/cdk.tf (STAGE=prod for one stage)
	@rm -rf cdktf.out
	@SYNTH_HCL_OUTPUT=true $(PY) main.py

lint: setup ## ruff over all Python code
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .

pytest: setup ## the test suite only (expects a current `make synth`)
	@$(PYTEST) $(PYTEST_ARGS)

scan: setup ## policy gate: checkov over cdktf.out (+ reports/charts) -> reports/checkov.json; fails on findings
	@$(PY) -m policy.scan

compliance: setup ## regenerate docs/compliance.md from policy/controls.yaml
	@$(PY) -m policy.compliance

charts: setup ## render every stage to reports/charts/<stage>.yaml: helm lint --strict, schemas, checkov, chart policy tests (expects `make synth`)
	@$(PY) -m tests.charts.render
	@$(PY) -m tests.charts.validate
	@checkov --skip-download --quiet --compact --config-file charts/checkov.yaml --framework kubernetes -d reports/charts
	@checkov --skip-download --quiet --compact --config-file charts/checkov.yaml --framework dockerfile $(addprefix -f ,charts/images/Dockerfile $(wildcard apps/*/Dockerfile))
	@$(PYTEST) tests/charts -q

test: setup lint synth charts scan pytest drill-ci ## everything CI runs

irsa-doc: setup ## regenerate docs/irsa.md (IRSA roles -> allowed actions) from the synthesized prod stacks
	@$(PY) -m stacks.irsa_doc

diagram: setup ## regenerate docs/architecture.{dot,svg,png} from the synthesized prod stacks
	@$(PY) -m stacks.diagram

snapshots: setup ## update the syrupy snapshots of the synthesized stacks
	@$(PYTEST) tests/infra/test_snapshots.py --snapshot-update

bench-synth: setup ## time a full synth against the provider-import floor -> reports/bench-synth.json
	@$(PY) -m bench.synth

clean: ## remove generated output
	rm -rf cdktf.out reports .pytest_cache

# Local platform (apps/platform): the whole shop on this machine behind haproxy on 127.0.0.1:8080.
.PHONY: up down status load browser-test
USERS ?= 50
DURATION ?= 120

up: setup ## start (or reconcile) the whole shop locally: deps, migrations, demo catalog, services, workers, haproxy
	@$(PY) -m apps.platform up

down: ## stop every local process (data kept; `python -m apps.platform down --purge` deletes it)
	@$(PY) -m apps.platform down

status: ## every local process with its health (exit 1 if any is unhealthy)
	@$(PY) -m apps.platform status

load: up ## Black-Friday load profile: USERS=<n> DURATION=<seconds> -> reports/load.json
	@$(PY) -m apps.platform.load --users $(USERS) --duration $(DURATION)

browser-test: setup ## Playwright + Debian Chromium journeys against the local platform (SCREENSHOTS=1 keeps every step)
	@$(PYTEST) tests/e2e $(PYTEST_ARGS)

# Cost estimate (cost/): offline, from the HCL `make synth` wrote; no cdktf import, a few seconds.
.PHONY: cost cost-refresh

cost: setup ## price cdktf.out -> cost/REPORT.md, cost/charts/*.png, reports/cost.json (STAGE=prod: that stage's JSON only)
	@$(PY) -m cost report $(if $(STAGE),--stage $(STAGE))

cost-refresh: setup ## rebuild cost/prices/*.yaml from the AWS Price List bulk offer files (needs network)
	@$(PY) -m cost refresh

# Application core (apps/): migrations by command (never at process start) and the catalog benchmark.
.PHONY: migrate bench-catalog
SERVICE ?= catalog

migrate: setup ## apply apps/$(SERVICE)/migrations (reads PEAKSHOP_<SERVICE>_DB_MIGRATE_URL or _DB_WRITER_URL)
	@$(PY) -m apps.runtime.migrate $(SERVICE)

bench-catalog: setup ## catalog detail/list vs bare-Flask ceiling through gunicorn (real MariaDB+replica, Redis) -> reports/bench-catalog.json
	@$(PY) -m apps.bench.catalog

# Checkout (apps/orders, apps/payments, apps/workers): throughput, latency and time to `paid` end to end.
.PHONY: bench-checkout

bench-checkout: setup ## checkouts/s, p50/p99 and time-to-paid through gunicorn + relay + Celery workers on moto SQS -> reports/bench-checkout.json
	@$(PY) -m apps.bench.checkout

# Game day (apps/drills) against the local platform; operator runbooks for AWS are `python -m ops --help`.
.PHONY: drill drill-ci
SCENARIO ?=
DRILL_SECONDS ?= 30
DRILL_RATE ?= 100
DRILL_CI_SECONDS ?= 15
DRILL_CI_RATE ?= 100

drill: up ## game day under load: every scenario (SCENARIO=<name>: one), DRILL_SECONDS fault window -> reports/drill.json + scorecard
	@$(PY) -m apps.drills $(if $(SCENARIO),--scenario $(SCENARIO)) --seconds $(DRILL_SECONDS) --rate $(DRILL_RATE)

drill-ci: up ## short game day for CI (every scenario, 15 s windows) -> reports/drill-ci.json; fails on any error or audit failure
	@$(PY) -m apps.drills --seconds $(DRILL_CI_SECONDS) --rate $(DRILL_CI_RATE) --report reports/drill-ci.json
