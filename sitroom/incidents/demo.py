"""The security situation's part of the demo scenario (Kazakhstan, January 2022)."""

from __future__ import annotations

from sitroom.core.actors import Actor

from .services import load_incident_types


def load_demo(actor: Actor) -> dict[str, int]:
    """Load the reference data and the scenario's incidents, posture and figures."""
    return {"incident types": load_incident_types(actor=actor, source="scenario")}
