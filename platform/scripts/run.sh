#!/usr/bin/env bash
# Install, migrate, load demo data and serve HTTP + WebSockets on 127.0.0.1:8000 (daphne) with a
# django-q2 cluster beside it. Embedded defaults: SQLite, in-memory channel layer, ORM broker,
# local files, console e-mail, offline providers. Set env vars (README) for PostgreSQL, Redis, ...
set -euo pipefail
. "$(dirname "$0")/system_packages.sh"
install_system_packages
. "$(dirname "$0")/venv.sh"
export DJANGO_SETTINGS_MODULE=settings.base
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py seed_demo
.venv/bin/python manage.py collectstatic --noinput >/dev/null
.venv/bin/python manage.py qcluster &
QPID=$!
trap 'kill $QPID 2>/dev/null || true' EXIT INT TERM
echo "Serving on http://127.0.0.1:${PORT:-8000}  (API docs: /api/v1/docs, WebSocket: /ws/)"
.venv/bin/daphne -b 127.0.0.1 -p "${PORT:-8000}" settings.asgi:application
