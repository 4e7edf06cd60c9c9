"""A real server process (uvicorn) on the test database, for live and browser tests."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def start_server(tmp_dir: Path) -> tuple[subprocess.Popen, str]:
    from django.conf import settings

    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SITROOM_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update({
        "SITROOM_DATABASE_URL": database_url(),
        "SITROOM_HOME": str(tmp_dir),
        "SITROOM_SECRET_KEY": settings.SECRET_KEY,
        "SITROOM_LIVE_HEARTBEAT_SECONDS": "2",
        "SITROOM_LIFELINE_FRESH_HOURS": "720",  # as the demo runs (scripts/run)
    })
    log = open(tmp_dir / "server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "sitroom.cli", "serve", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/login/", timeout=1)
            return proc, url
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start: " + (tmp_dir / "server.log").read_text())


def session_cookie(user) -> dict[str, str]:
    """A session for `user`, usable against the server process."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return {"sessionid": client.cookies["sessionid"].value}
