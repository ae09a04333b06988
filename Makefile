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

# galaxy[no-repository] stays a warning: galaxy.yml names no repository until the
# project has a public one (a placeholder would be worse); Galaxy refuses an upload
# without it, so the galaxy-importer step below says so before checking the rest.
lint: setup ## ansible-lint (production profile), ruff, yamllint, shellcheck, antsibull-docs, antsibull-changelog, galaxy-importer
	ansible-lint --profile production -w 'galaxy[no-repository]'
	ruff check .
	ruff format --check .
	yamllint -s .
	shellcheck -x .ci/run lab/docker.sh lab/scripts/*.sh lab/sample-django/*.sh lab/compose/*.sh lab/compose/images/runtime/*.sh scripts/*.sh tests/bench/*.sh
	antsibull-docs lint-collection-docs --plugin-docs .
	antsibull-changelog lint
	@set -euo pipefail; out=$$(mktemp -d); trap 'rm -rf "$$out"' EXIT; \
	echo "galaxy-importer (default profile, offline) on runbook-golive-$(VERSION).tar.gz"; \
	ansible-galaxy collection build --output-path "$$out/build" . >/dev/null; \
	tarball="$$out/build/runbook-golive-$(VERSION).tar.gz"; \
	if ! grep -q '^repository: *[^ ]' galaxy.yml; then \
	  echo "WARNING (not fatal here): galaxy.yml names no repository, which Galaxy requires; checking the rest with repository=file://$(CURDIR)"; \
	  mkdir "$$out/x" "$$out/patched"; tar -xzf "$$tarball" -C "$$out/x"; \
	  python3 -c 'import json, sys; p = sys.argv[1]; m = json.load(open(p)); m["collection_info"]["repository"] = sys.argv[2]; json.dump(m, open(p, "w"), indent=1)' "$$out/x/MANIFEST.json" "file://$(CURDIR)"; \
	  tarball="$$out/patched/runbook-golive-$(VERSION).tar.gz"; tar -czf "$$tarball" -C "$$out/x" .; \
	fi; \
	cd "$$out"; rc=0; PATH="$(CURDIR)/$(VENV)/importer/bin:$$PATH" python -m galaxy_importer.main "$$tarball" > importer.log 2>&1 || rc=$$?; \
	if [ "$$rc" -ne 0 ] || grep -qE '^(WARNING|ERROR|CRITICAL):' importer.log; then \
	  grep -vE '^Loading ' importer.log; echo "galaxy-importer: failed (exit $$rc, or warnings above)" >&2; exit 1; \
	fi; \
	echo "galaxy-importer: passed (ansible-doc, ansible-lint of the artifact, changelog, metadata)"

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
