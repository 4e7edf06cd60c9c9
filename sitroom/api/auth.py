"""API authentication: a Bearer token, or the browser's session (with CSRF)."""

from __future__ import annotations

from ninja.security import HttpBearer, SessionAuth

from sitroom.accounts.services import authenticate_token, token_actor
from sitroom.core.actors import Actor


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        found = authenticate_token(token)
        if found is None:
            return None
        request.user = found.user
        request.actor = token_actor(found)
        return found.user


class WebSessionAuth(SessionAuth):
    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is not None:
            request.actor = Actor(user=user)
        return user


AUTH = [TokenAuth(), WebSessionAuth()]


def actor_of(request) -> Actor:
    return request.actor
