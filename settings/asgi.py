"""ASGI: HTTP and WebSockets (/ws/). Production serves plain HTTP on WSGI and only /ws/ here."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.base")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from core.realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Sockets authenticate by token, never by cookie, so a cross-site page gains nothing; native
        # clients send no Origin header, which an origin validator would refuse.
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
