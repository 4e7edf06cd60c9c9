"""API tokens on the API: create your own (shown once), list and revoke them."""

from __future__ import annotations

from datetime import datetime

from django.http import Http404
from ninja import Router, Schema, Status
from pydantic import Field

from sitroom.api.auth import actor_of
from sitroom.api.openapi import own_account
from sitroom.core.choices import JournalSource

from . import services
from .models import ApiToken

router = Router(tags=["account"])


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=100)


class TokenOut(Schema):
    prefix: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(description="the secret; shown only in this response")


def _out(t: ApiToken) -> dict:
    return {"prefix": t.prefix, "name": t.name, "created_at": t.created_at,
            "last_used_at": t.last_used_at, "revoked_at": t.revoked_at}


@router.get("/tokens", response=list[TokenOut], summary="My API tokens")
def list_tokens(request):
    return [_out(t) for t in ApiToken.objects.filter(user=request.user)]


@router.post("/tokens", response={201: NewTokenOut}, summary="Create an API token for me")
@own_account
def create_token(request, body: TokenIn):
    token, secret = services.create_token(request.user, body.name, actor=actor_of(request),
                                          source=JournalSource.API)
    return Status(201, _out(token) | {"token": secret})


@router.delete("/tokens/{prefix}", response={204: None}, summary="Revoke one of my tokens")
@own_account
def revoke_token(request, prefix: str):
    token = ApiToken.objects.filter(user=request.user, prefix=prefix).first()
    if token is None:
        raise Http404(f"no token {prefix!r}")
    services.revoke_token(token, actor=actor_of(request), source=JournalSource.API)
    return Status(204, None)
