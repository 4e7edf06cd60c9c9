"""`sitroom serve`: the web application under uvicorn (ASGI, for the live stream)."""

import uvicorn
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = _("Serve Sitroom over HTTP.")

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1,
                            help=_("server processes (PostgreSQL only; SQLite uses one)"))

    def handle(self, *args, host, port, workers, **options):
        from django.db import connection

        if workers > 1 and connection.vendor != "postgresql":
            self.stderr.write("--workers above 1 needs PostgreSQL; serving with one process.")
            workers = 1
        self.stdout.write(f"Sitroom at http://{host}:{port}/ (Ctrl-C stops it)")
        uvicorn.run("sitroom.asgi:application", host=host, port=port, workers=workers,
                    log_level="warning", timeout_graceful_shutdown=2)
