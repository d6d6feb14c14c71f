# The two commands of the README:
#   make plan   set up everything and plan the default scenario (nl-de-bev-pilot) into out/
#   make test   set up everything and run the test suite
SCENARIO ?= nl-de-bev-pilot
OUT ?= out/$(SCENARIO)

.PHONY: setup plan test lint

setup:
	@bash scripts/setup.sh

plan: setup
	.venv/bin/corridor plan $(SCENARIO) --out $(OUT)

test: setup
	.venv/bin/python -m pytest -q

lint: setup
	.venv/bin/ruff check corridor tests scripts
	.venv/bin/ruff format --check corridor tests scripts
