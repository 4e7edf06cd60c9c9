import pytest

from sitroom.core.actors import Actor
from sitroom.incidents.services import load_incident_types


@pytest.fixture
def taxonomy(db):
    load_incident_types(actor=Actor.system_actor("tests"), source="cli")


@pytest.fixture
def sec_world(world, taxonomy):
    """The small world with the incident taxonomy loaded."""
    return world
