# The compose lab: a local registry and a Docker Compose project of the sample
# app on this machine's Docker engine. Included by the root Makefile; see lab/README.md.
.PHONY: lab-compose-up lab-compose-down e2e-compose

lab-compose-up: setup ## start the compose lab (registry on 127.0.0.1:15000, images per tag, project at v1.0.0)
	@lab/compose/up.sh

lab-compose-down: ## remove the compose lab's containers and stop its registry (images stay cached)
	@lab/compose/down.sh

e2e-compose: setup ## end-to-end compose go-lives: brings the compose lab up, tears it down at the end
	pytest -q tests/e2e_compose
