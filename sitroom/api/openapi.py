"""The OpenAPI document declares the errors an operation can answer, not only its success.

Every error is an RFC 9457 problem detail (`errors.problem`). Which ones an operation can
give follows from its shape, so they are declared here once for all operations rather than
on each endpoint:

- 401 where the operation needs a token or session;
- 403 on every write (POST, PUT, PATCH, DELETE): the services check the actor's role and
  scope; reads are scoped instead (what one may not see is simply not there). A write on
  one's own account, which anyone signed in may do, is marked `@own_account`;
- 404 where a path names one thing (`/incidents/{uid}`): unknown, or not visible to you;
- 422 where the operation takes any input (path, query, header or body): the field and
  the problem are named in `errors`.

An operation that answers another of them (a 404 without a path parameter) adds it with
`openapi_extra=problems(404)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ninja import NinjaAPI, Schema
from ninja.openapi.schema import REF_TEMPLATE, OpenAPISchema
from ninja.operation import Operation
from ninja.schema import NinjaGenerateJsonSchema
from pydantic import Field

PROBLEM_MEDIA_TYPE = "application/problem+json"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}

DESCRIPTIONS = {
    401: "Unauthorized: no valid API token (`Authorization: Bearer …`) and no session.",
    403: "Forbidden: your role or your scope (areas, organizations) does not allow this.",
    404: "Not found: no such resource, or none visible to you.",
    422: "Invalid input: `errors` names each field and its problem.",
}


class FieldProblem(Schema):
    """One field's problem in an invalid request."""

    field: str = Field(description="The field, dotted for a nested one (`items.0.area`), "
                                   "or a header's or query parameter's name.")
    message: str = Field(description="The problem, in the reader's language.")


class ProblemDetails(Schema):
    """An error answer (RFC 9457 problem details)."""

    type: str = Field(description="A URI naming the kind of problem.")
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str | None = Field(None, description="What went wrong in this request.")
    errors: list[FieldProblem] | None = Field(
        None, description="For invalid input (422): each field and its problem.")


def own_account(view: Callable) -> Callable:
    """Marks a write on the caller's own account (their tokens): no role or scope is
    checked, so it never answers 403. Put it under the router's decorator."""
    view.own_account = True  # type: ignore[attr-defined]
    return view


def problem_statuses(operation: Operation) -> set[int]:
    """The error statuses `operation` can answer with, from its shape."""
    statuses = set()
    if any(callback is not None for callback in operation.auth_callbacks):
        statuses.add(401)
    if WRITES & {m.upper() for m in operation.methods} and not getattr(
            operation.view_func, "own_account", False):
        statuses.add(403)
    sources = {model.__ninja_param_source__ for model in operation.models}
    if "path" in sources:
        statuses.add(404)
    if sources:
        statuses.add(422)
    return statuses


def problem_response(status: int) -> dict[str, Any]:
    return {"description": DESCRIPTIONS[status],
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {
                "$ref": REF_TEMPLATE.format(model=ProblemDetails.__name__)}}}}


def problems(*statuses: int) -> dict[str, Any]:
    """`openapi_extra` for an operation that answers an error its shape does not show."""
    return {"responses": {status: problem_response(status) for status in statuses}}


class Document(OpenAPISchema):
    """Ninja's document, with each operation's error answers and their schema."""

    def responses(self, operation: Operation) -> dict[int, Any]:
        result = super().responses(operation)
        statuses = problem_statuses(operation) - set(result)
        if statuses:
            self._add_problem_schema()
        for status in sorted(statuses):
            result[status] = problem_response(status)
        return result

    def get_components(self) -> dict[str, Any]:
        self._add_problem_schema()  # also for `problems()` given by hand
        return super().get_components()

    def _add_problem_schema(self) -> None:
        if ProblemDetails.__name__ in self.schemas:
            return
        schema = ProblemDetails.model_json_schema(
            ref_template=REF_TEMPLATE, schema_generator=NinjaGenerateJsonSchema,
            mode="serialization")
        self.add_schema_definitions(schema.pop("$defs", {}))
        self.add_schema_definitions({ProblemDetails.__name__: schema})


class SitroomAPI(NinjaAPI):
    """The API whose OpenAPI document declares its problem-detail errors."""

    def get_openapi_schema(self, *, path_prefix: str | None = None,
                           path_params: dict[str, Any] | None = None) -> OpenAPISchema:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        return Document(self, path_prefix)
