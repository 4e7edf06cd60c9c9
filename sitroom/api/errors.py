"""RFC 9457 problem details for every API error, naming the field and the problem."""

from __future__ import annotations

from django.http import Http404, HttpRequest, JsonResponse
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


def install(api: NinjaAPI) -> None:
    @api.exception_handler(ValidationError)
    def on_validation(request: HttpRequest, exc: ValidationError):
        errors = [{"field": _loc(e.get("loc", [])), "message": e.get("msg", "invalid")}
                  for e in exc.errors]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(422, "Invalid input", detail, errors, "invalid-input")

    @api.exception_handler(InvalidInput)
    def on_invalid(request: HttpRequest, exc: InvalidInput):
        errors = [{"field": f, "message": " ".join(m)} for f, m in exc.errors.items()]
        return problem(422, "Invalid input", exc.message(), errors, "invalid-input")

    @api.exception_handler(NotAllowed)
    def on_not_allowed(request: HttpRequest, exc: NotAllowed):
        return problem(403, "Forbidden", str(exc), kind="forbidden")

    @api.exception_handler(AuthenticationError)
    def on_auth(request: HttpRequest, exc: AuthenticationError):
        return problem(401, "Unauthorized",
                       "Send a valid API token as 'Authorization: Bearer …' or sign in.",
                       kind="unauthorized")

    @api.exception_handler(Http404)
    def on_404(request: HttpRequest, exc: Http404):
        return problem(404, "Not found", str(exc) or "No such resource.", kind="not-found")

    @api.exception_handler(HttpError)
    def on_http(request: HttpRequest, exc: HttpError):
        return problem(exc.status_code, str(exc.message), str(exc.message))
