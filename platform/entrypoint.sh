#!/bin/sh
# web: HTTP on gunicorn (WSGI, gthread), ws: WebSockets on daphne (ASGI), worker: django-q2 cluster,
# migrate: migrations + schedules (run once per deploy).
set -e
case "$1" in
  web) exec gunicorn settings.wsgi:application --bind 0.0.0.0:8000 --worker-class gthread \
         --workers "${WEB_WORKERS:-4}" --threads "${WEB_THREADS:-4}" --max-requests 5000 --max-requests-jitter 500 \
         --access-logfile - ;;
  ws) exec daphne -b 0.0.0.0 -p 8001 --proxy-headers settings.asgi:application ;;
  worker) exec python manage.py qcluster ;;
  migrate) python manage.py migrate --noinput && exec python manage.py create_admin ;;
  *) exec "$@" ;;
esac
