#!/bin/sh
# web: HTTP on gunicorn (WSGI, sync), web-io: the same for routes that wait on outside services, ws: WebSockets on daphne (ASGI), worker: django-q2 cluster,
# migrate: migrations + schedules (run once per deploy).
set -e
case "$1" in
  # web: sync workers, 2 per core (WEB_WORKERS): CPU-bound Django requests run best one per process,
  # with nginx buffering slow clients; gthread 4x4 doubled p95 on the same host (README, Production).
  # A worker's restart costs ~1.5 s of CPU (imports, then the URLconf: settings/wsgi.py): at 5,000
  # requests a worker recycled every few seconds under full load. Memory stays flat (the soak), so the
  # recycling is only a guard.
  web) exec gunicorn settings.wsgi:application --bind 0.0.0.0:8000 --worker-class sync \
         --workers "${WEB_WORKERS:-4}" --max-requests 100000 --max-requests-jitter 10000 --access-logfile - ;;
  # web-io: the routes that wait on an outside service inside the request as a rule (the coach's
  # model, Stripe's checkout; nginx.conf): threads, so a slow answer holds a thread, not a whole worker of the main pool.
  web-io) exec gunicorn settings.wsgi:application --bind 0.0.0.0:8000 --worker-class gthread \
         --workers "${WEB_IO_WORKERS:-2}" --threads "${WEB_IO_THREADS:-8}" --timeout 120 \
         --max-requests 5000 --max-requests-jitter 500 --access-logfile - ;;
  ws) exec daphne -b 0.0.0.0 -p 8001 --proxy-headers settings.asgi:application ;;
  worker) exec python manage.py qcluster ;;
  migrate) python manage.py migrate --noinput && exec python manage.py create_admin ;;
  *) exec "$@" ;;
esac
