"""The API root: /api/v1/. Routers of every domain app are mounted here."""

from sitroom.accounts.api import router as accounts_router
from sitroom.core.api import router as core_router
from sitroom.forces.api import router as forces_router
from sitroom.incidents.api import router as incidents_router
from sitroom.incidents.api_exchange import router as incidents_exchange_router
from sitroom.lifelines.api import router as lifelines_router

from . import errors
from .auth import AUTH
from .openapi import SitroomAPI
from .renderer import Renderer

api = SitroomAPI(
    title="Sitroom API",
    version="1",
    description=(
        "Crisis operations platform. Authenticate with `Authorization: Bearer <token>` "
        "(create one with `sitroom token create --user NAME`) or a browser session. "
        "Errors are RFC 9457 problem details (`application/problem+json`, schema "
        "`ProblemDetails`) naming the field and the problem; each operation lists the "
        "ones it can answer. "
        "Times are ISO 8601 with an offset."),
    auth=AUTH,
    renderer=Renderer(),
    urls_namespace="api",
)
errors.install(api)
api.add_router("/", core_router)
api.add_router("/", accounts_router)
api.add_router("/", incidents_exchange_router)  # before /incidents/{uid}
api.add_router("/", incidents_router)
api.add_router("/", lifelines_router)
api.add_router("/", forces_router)
