# runbook.golive — one place for every command a user or CI runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PYTHONPATH := $(CURDIR)/.build/collections
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)

.PHONY: help setup lint sanity units integration molecule e2e test demo build bench clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

setup: ## install system packages (as root) and the virtualenv
	@scripts/setup.sh

lint: setup ## ansible-lint (production profile), ruff, yamllint, shellcheck
	ansible-lint --profile production
	ruff check .
	ruff format --check .
	yamllint -s .
	shellcheck -x .ci/run lab/docker.sh lab/scripts/*.sh lab/sample-django/*.sh lab/compose/*.sh lab/compose/images/runtime/*.sh scripts/*.sh tests/bench/*.sh

sanity: setup ## ansible-test sanity, offline
	@scripts/sanity.sh

units: setup ## unit tests of modules and module_utils
	pytest -q tests/unit

integration: setup ## module integration tests against the running lab
	pytest -q tests/integration

molecule: setup ## molecule scenarios of the roles on the lab images
	@scripts/molecule.sh

e2e: setup ## end-to-end go-lives in the lab
	pytest -q tests/e2e

test: setup ## everything: lint, sanity, units, lab, integration, molecule, e2e
	@scripts/test.sh

demo: setup ## bring the lab up and run real go-lives in it
	@scripts/demo.sh

build: setup ## build runbook-golive-<version>.tar.gz
	ansible-galaxy collection build --force --output-path .

bench: setup ## long benchmarks (backup, verify, downtime)
	@scripts/bench.sh

clean: ## remove the virtualenv, build output and the lab
	-$(MAKE) --no-print-directory lab-down
	rm -rf $(VENV) .build tests/output runbook-golive-*.tar.gz .pytest_cache .ruff_cache

-include lab/lab.mk
-include lab/compose/compose.mk
