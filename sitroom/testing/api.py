"""Calling the API in tests as a client would: a Bearer token and JSON."""

from __future__ import annotations

import json

from django.test import Client

from sitroom.accounts.services import create_token
from sitroom.core.actors import Actor


def token(user, name: str = "test") -> str:
    """A new API token's secret for `user`."""
    return create_token(user, name, actor=Actor(user=user), source="cli")[1]


def call(secret: str | None, method: str, path: str, data=None, **headers):
    """GET with query parameters, or another method with a JSON body."""
    client = Client()
    extra = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
    extra.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
    if method == "get":
        return client.get(path, data or {}, **extra)
    return getattr(client, method)(path, json.dumps(data), content_type="application/json",
                                   **extra)
