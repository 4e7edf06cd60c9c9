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
        """For a program's reader (API, CLI): each problem after its field's name."""
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in self.errors.items())

    def text(self) -> str:
        """For a page's reader, who sees no field names: the problems alone."""
        return " ".join(m if m.endswith((".", "?", "!")) else m + "."
                        for msgs in self.errors.values() for m in msgs)


class NotAllowed(Exception):
    """The actor may not do this (role or scope)."""
