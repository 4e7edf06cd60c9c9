"""ASGI entry point: `sitroom serve` runs it under uvicorn (live streams need ASGI)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sitroom.settings")
application = get_asgi_application()
