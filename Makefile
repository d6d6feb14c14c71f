# The two commands of the README:
#   make plan   set up everything and plan the default scenario (nl-de-bev-pilot) into out/
#   make test   set up everything and run the test suite
SCENARIO ?= nl-de-bev-pilot
OUT ?= out/$(SCENARIO)

.PHONY: setup plan test test-fast lint

setup:
	@bash scripts/setup.sh

plan: setup
	.venv/bin/corridor plan $(SCENARIO) --out $(OUT)

test: setup
	.venv/bin/python -m pytest -q

# the unit tests only: no ../shared/data needed (small inputs in tests/data)
test-fast: setup
	.venv/bin/python -m pytest -q -m "not slow"

lint: setup
	.venv/bin/ruff check corridor tests scripts
	.venv/bin/ruff format --check corridor tests scripts
