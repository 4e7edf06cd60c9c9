"""ASGI entry point: `sitroom serve` runs it under uvicorn (live streams need ASGI)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sitroom.settings")
django_application = get_asgi_application()

from sitroom.core.uploads import UploadLimit  # noqa: E402  (after Django is set up)

# An upload over its address's limit is refused without reading its body.
application = UploadLimit(django_application)
