.PHONY: help install demo test lint fmt
help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/'
install:  ## virtualenv with the project and its dev tools
	python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]'
demo:  ## the embedded end-to-end demo
	.venv/bin/ci-remediator demo
test:  ## the test suite on the real Postgres and Redis
	scripts/test
lint:  ## ruff
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
fmt:  ## format
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .
