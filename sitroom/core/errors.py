"""Errors every door (web, API, CLI) turns into a clear message naming field and problem."""

from __future__ import annotations


class InvalidInput(Exception):
    """Input that cannot be stored; `errors` maps each field to its problems."""

    def __init__(self, errors: dict[str, list[str] | str]):
        self.errors = {
            field: [str(m) for m in (msgs if isinstance(msgs, list) else [msgs])]
            for field, msgs in errors.items()
        }
        super().__init__(self.message())

    def message(self) -> str:
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in self.errors.items())


class NotAllowed(Exception):
    """The actor may not do this (role or scope)."""
