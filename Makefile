# The two set-up commands (README): `make run` and `make test`. Both work on a fresh machine.
.PHONY: run test lint
run:
	bash platform/scripts/run.sh
test:
	bash platform/scripts/test.sh
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/lint-imports
