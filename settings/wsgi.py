import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.base")
application = get_wsgi_application()
# Build the URLconf (the NinjaAPI with every module's routers and schemas, ~0.5 s) while the worker
# boots, not inside its first request: otherwise the first user after each start or restart of a
# gunicorn worker waits for it.
get_resolver().url_patterns  # noqa: B018 - evaluated for its side effect
