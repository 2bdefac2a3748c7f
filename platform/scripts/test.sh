#!/usr/bin/env bash
# Install (with dev tools) and run the test suite. SQLite by default; PostgreSQL when DATABASE_URL
# is set (the test database test_<name> is created fresh). Extra arguments go to pytest.
set -euo pipefail
. "$(dirname "$0")/system_packages.sh"
install_system_packages
. "$(dirname "$0")/venv.sh" dev
export DJANGO_SETTINGS_MODULE=settings.base
exec .venv/bin/python -m pytest -q -n "${PYTEST_WORKERS:-2}" --create-db "$@"
