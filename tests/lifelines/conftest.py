import pytest

from sitroom.core.actors import Actor
from sitroom.lifelines.services import load_components


@pytest.fixture
def ll_world(world):
    """The small world with the lifeline components loaded."""
    load_components(actor=Actor.system_actor("tests"), source="cli")
    return world
