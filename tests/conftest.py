import pytest

from sitroom.testing.world import build_world


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def token_for(world):
    """token_for("duty") -> a new API token's secret for that persona."""
    from sitroom.testing.api import token

    return lambda name: token(world.users[name])


@pytest.fixture
def users(world):
    return world.users


@pytest.fixture
def areas(world):
    return world.areas


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The production hasher is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The demo's generated withdrawal plan: any plan will do for the tests.
    settings.DEMO_PLAN_SECONDS = 2




# --- A real server process on the test database, for live and browser tests -------------

import subprocess  # noqa: E402

from sitroom.testing.server import start_server  # noqa: E402


@pytest.fixture(scope="session")
def server(django_db_setup, tmp_path_factory):
    """Base URL of `sitroom serve` running in its own process on the test database."""
    proc, url = start_server(tmp_path_factory.mktemp("server"))
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def live_world(transactional_db):
    """The small world, committed, so that the server process sees it."""
    return build_world()


@pytest.fixture
def demo_world(transactional_db, settings):
    """The demo scenario with its boundaries, committed, plus the personas."""
    if not settings.BOUNDARIES_DIR.exists():
        pytest.skip(f"no boundary data at {settings.BOUNDARIES_DIR}")
    from sitroom.accounts.services import create_user
    from sitroom.core.demo import load_demo
    from sitroom.testing.world import PASSWORD, SYSTEM

    load_demo()
    for name, role in (("duty", "duty_officer"), ("viewer", "viewer")):
        create_user(name, role=role, password=PASSWORD, all_areas=True, actor=SYSTEM,
                    source="cli")
    return None


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """A page requested in Russian must not leave the next test speaking Russian."""
    from django.utils import translation

    yield
    translation.activate("en")
