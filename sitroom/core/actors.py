"""Who did it. Nothing is written anonymously: every service takes an Actor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model


@dataclass(frozen=True)
class Actor:
    """A signed-in user, a user acting through an API token, or a named system actor."""

    user: Any = None
    token_name: str = ""
    system: str = ""

    def __post_init__(self):
        if self.user is None and not self.system:
            raise ValueError("an actor is a user or a named system actor")

    @property
    def label(self) -> str:
        if self.user is None:
            return f"system:{self.system}"
        if self.token_name:
            return f"{self.user.get_username()} (token {self.token_name})"
        return self.user.get_username()

    @classmethod
    def of(cls, who: Any) -> Actor:
        """Accepts an Actor or a user."""
        if isinstance(who, Actor):
            return who
        if isinstance(who, get_user_model()):
            return cls(user=who)
        raise TypeError(f"not an actor: {who!r}")

    @classmethod
    def system_actor(cls, name: str) -> Actor:
        return cls(system=name)
