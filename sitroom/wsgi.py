"""WSGI entry point, for deployments that serve the live stream from a separate ASGI host."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sitroom.settings")
application = get_wsgi_application()
