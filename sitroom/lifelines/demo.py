"""The lifelines' part of the demo scenario (Kazakhstan, January 2022)."""

from __future__ import annotations

from sitroom.core.actors import Actor

from .services import load_components


def load_demo(actor: Actor) -> dict[str, int]:
    """Load the components and the scenario's status reports."""
    return {"lifeline components": load_components(actor=actor, source="scenario")}
