# The lab: four systemd containers (lb1, app1, app2, db1) running the sample
# app. Included by the root Makefile; see lab/README.md.
.PHONY: lab-up lab-down lab-status

lab-up: setup ## start the lab (build cached images, containers, bootstrap); LAB_DB_ROWS=N seeds N rows
	@lab/scripts/lab-up.sh

lab-down: ## remove the lab's containers and network (images stay cached)
	@lab/scripts/lab-down.sh

lab-status: ## show the lab's containers and the version lb1 serves
	@lab/scripts/lab-status.sh
