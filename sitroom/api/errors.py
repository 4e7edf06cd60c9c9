"""RFC 9457 problem details for every API error, naming the field and the problem."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from sitroom.core.errors import InvalidInput, NotAllowed

PROBLEM_TYPE = "https://sitroom.invalid/problems/"


def problem(status: int, title: str, detail: str = "", errors: list[dict] | None = None,
            kind: str | None = None) -> JsonResponse:
    body: dict = {"type": PROBLEM_TYPE + (kind or str(status)), "title": title,
                  "status": status}
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    return JsonResponse(body, status=status, content_type="application/problem+json",
                        json_dumps_params={"ensure_ascii": False})


def _loc(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "payload") or len(loc) == 1]
    # ninja locations look like ["body", "payload", "summary"] or ["query", "limit"]
    if parts and parts[0] in ("query", "path", "header", "form"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def _message(error: dict[str, Any]) -> str:
    """The schema's complaint in the reader's language, as the services word theirs (the
    validator's own English text for a kind not listed)."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "missing":
        return _("is required")
    if kind == "string_too_short":
        n = int(ctx.get("min_length", 1))
        return _("must not be empty") if n <= 1 else ngettext(
            "at least %(n)d character", "at least %(n)d characters", n) % {"n": n}
    if kind == "string_too_long":
        return _("at most %(n)d characters") % {"n": int(ctx.get("max_length", 0))}
    if kind in ("too_short", "too_long"):
        n = int(ctx.get("min_length" if kind == "too_short" else "max_length", 0))
        return (ngettext("must hold at least %(n)d item", "must hold at least %(n)d items", n)
                if kind == "too_short" else
                ngettext("must hold at most %(n)d item", "must hold at most %(n)d items", n)
                ) % {"n": n}
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        limit = next((ctx[k] for k in ("ge", "gt", "le", "lt") if k in ctx), "")
        if isinstance(limit, float) and limit.is_integer():
            limit = int(limit)  # "more than 0", not "more than 0.0"
        return {"greater_than_equal": _("must be at least %(n)s"),
                "greater_than": _("must be more than %(n)s"),
                "less_than_equal": _("must be at most %(n)s"),
                "less_than": _("must be less than %(n)s")}[kind] % {"n": limit}
    if kind in ("literal_error", "enum"):
        return _("must be one of: %(kinds)s") % {"kinds": ctx.get("expected", "")}
    if kind == "timezone_aware":
        return _("needs a time-zone offset, e.g. 2022-01-05T12:00:00+06:00")
    when = _("must be a date and time in ISO 8601 with an offset, e.g. "
             "2022-01-05T10:00:00+06:00")
    simple = {
        "string_type": _("must be text"),
        "int_parsing": _("must be a whole number"), "int_type": _("must be a whole number"),
        "int_from_float": _("must be a whole number"),
        "float_parsing": _("must be a number"), "float_type": _("must be a number"),
        "bool_parsing": _("must be true or false"), "bool_type": _("must be true or false"),
        "datetime_parsing": when, "datetime_type": when, "datetime_from_date_parsing": when,
        "list_type": _("must be a list"),
        "dict_type": _("must be an object"), "model_type": _("must be an object"),
        "model_attributes_type": _("must be an object"),
        "json_invalid": _("is not valid JSON"),
        "uuid_parsing": _("must be a UUID"), "uuid_type": _("must be a UUID"),
        "extra_forbidden": _("is not a field this request takes"),
    }
    return simple.get(kind) or error.get("msg", "invalid")


def install(api: NinjaAPI) -> None:
    @api.exception_handler(ValidationError)
    def on_validation(request: HttpRequest, exc: ValidationError):
        errors = [{"field": _loc(e.get("loc", [])), "message": _message(e)}
                  for e in exc.errors]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(422, _("Invalid input"), detail, errors, "invalid-input")

    @api.exception_handler(InvalidInput)
    def on_invalid(request: HttpRequest, exc: InvalidInput):
        errors = [{"field": f, "message": " ".join(m)} for f, m in exc.errors.items()]
        return problem(422, _("Invalid input"), exc.message(), errors, "invalid-input")

    @api.exception_handler(NotAllowed)
    def on_not_allowed(request: HttpRequest, exc: NotAllowed):
        return problem(403, _("Forbidden"), str(exc), kind="forbidden")

    @api.exception_handler(AuthenticationError)
    def on_auth(request: HttpRequest, exc: AuthenticationError):
        return problem(401, _("Unauthorized"),
                       _("Send a valid API token as 'Authorization: Bearer …' or sign in."),
                       kind="unauthorized")

    @api.exception_handler(Http404)
    def on_404(request: HttpRequest, exc: Http404):
        return problem(404, _("Not found"), str(exc) or _("No such resource."),
                       kind="not-found")

    @api.exception_handler(HttpError)
    def on_http(request: HttpRequest, exc: HttpError):
        return problem(exc.status_code, str(exc.message), str(exc.message))
