"""Pages: the common operating picture, its timeline partial, posting, and the live stream."""

from __future__ import annotations

import asyncio
import json

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpResponse, HttpResponseForbidden, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sitroom.accounts.services import bearer_token
from sitroom.core import queries, services
from sitroom.core.actors import Actor
from sitroom.core.choices import JournalSource
from sitroom.core.errors import InvalidInput, NotAllowed
from sitroom.core.journal import chain_head
from sitroom.core.live import HUB
from sitroom.core.models import Area
from sitroom.core.permissions import JOURNAL_ADD, ROLE_ACTIONS, scope_of

from .forms import EntryForm, TimelineFilterForm
from .htmx import wants_part

TIMELINE_PAGE = 50


def _timeline_entries(request):
    """The timeline's filter form, its filter and the entries it selects for the user."""
    form = TimelineFilterForm(request.GET or None, user=request.user)
    flt = form.to_filter()
    return form, flt, queries.journal_entries(request.user, flt)


def _timeline_context(request):
    # Read before the timeline, so an entry recorded meanwhile comes again on the stream
    # (the page drops duplicates) rather than never.
    head = chain_head()[0]
    form, flt, entries = _timeline_entries(request)
    page = Paginator(entries, TIMELINE_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    # The live stream resumes right after the newest entry this page was rendered with, so
    # nothing recorded between rendering and connecting is missed. The timeline carries
    # both, so a filter changed on the page (an htmx swap) moves the stream to it too.
    live_filters = form.live_query()
    live_query = live_filters + ("&" if live_filters else "") + f"after={head}"
    return {"filter_form": form, "page": page, "as_of": flt.as_of, "query": query.urlencode(),
            "live_query": live_query, "live_filters": live_filters, "live_after": head}


@login_required
def cop(request):
    """The common operating picture: map, timeline, filters, as-of, live log."""
    if wants_part(request) and request.GET.get("part") == "count":
        # the count alone, for the live page's refresh: no page of entries read or drawn
        _form, flt, entries = _timeline_entries(request)
        return render(request, "web/partials/timeline_count.html",
                      {"n": entries.count(), "as_of": flt.as_of})
    if wants_part(request):
        return render(request, "web/partials/timeline.html", _timeline_context(request))
    scope = scope_of(request.user)
    context = _timeline_context(request)
    context.update({
        "entry_form": EntryForm(user=request.user),
        "can_post": JOURNAL_ADD in ROLE_ACTIONS.get(scope.role, set()),
        "map_config": json.dumps({
            "tileUrl": settings.MAP_TILE_URL,
            "tileAttribution": settings.MAP_TILE_ATTRIBUTION,
            "language": get_language(),
            "asOf": context["as_of"].isoformat() if context["as_of"] else None,
        }),
        "area_count": Area.objects.visible_to(request.user).count(),
    })
    return render(request, "web/cop.html", context)


@login_required
@require_POST
def post_entry(request):
    """Record an entry from the operating picture's form."""
    form = EntryForm(request.POST, user=request.user)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.record_entry(
                actor=Actor(user=request.user), source=JournalSource.WEB, kind=d["kind"],
                summary=d["summary"], area=d["area"], place=d["place"],
                occurred_at=d["occurred_at"], estimate=d["estimate"])
        except InvalidInput as exc:
            for field, msgs in exc.errors.items():
                form.add_error(field if field in form.fields else None, " ".join(msgs))
        except NotAllowed:
            return HttpResponseForbidden(_("You may not record entries for this area."))
        else:
            messages.success(request, _("Entry recorded."))
            return redirect("web:cop")
    context = _timeline_context(request)
    context.update({"entry_form": form, "can_post": True, "map_config": "{}",
                    "area_count": 0})
    return render(request, "web/cop.html", context, status=422)


async def live_journal(request):
    """Server-sent events: every new journal entry the user may see, as it is recorded.

    A reconnecting browser sends Last-Event-ID and gets everything it missed first. A
    field system follows it with its API token (`Authorization: Bearer …`) instead of a
    session, and gets exactly what the token's user may see.
    """
    sent, token = await sync_to_async(bearer_token)(request)
    if sent:
        if token is None:
            return _unauthorized(_("The API token is unknown, revoked or of an inactive "
                                   "user."), 'Bearer error="invalid_token"')
        user = token.user
    else:
        user = await request.auser()
        if not user.is_authenticated:
            return _unauthorized(_("Send a valid API token as 'Authorization: Bearer …' "
                                   "or sign in."), "Bearer")
    scope = await sync_to_async(scope_of)(user)
    form = await sync_to_async(_live_filter)(request, user)
    if form is None:
        return HttpResponse(status=400)
    language = (get_language() or "en")[:2]
    raw_last = request.headers.get("Last-Event-ID") or request.GET.get("after") or ""
    last_seq = int(raw_last) if raw_last.isdigit() else None

    async def events():
        sub = await HUB.subscribe()
        try:
            cursor = last_seq
            if cursor is None:  # a fresh page: everything up to now is on it already
                cursor = (await sync_to_async(chain_head)())[0]
            sub.cursor = cursor
            yield f"retry: 2000\n: connected at {timezone.now().isoformat()}\n\n"
            backlog = await sync_to_async(_backlog)(user, form, cursor)
            for item in backlog:
                yield _sse(item, language)
                cursor = sub.cursor = item["seq"]
            while True:
                try:
                    item = await asyncio.wait_for(sub.queue.get(),
                                                  settings.LIVE_HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if item["seq"] <= cursor:
                    continue
                cursor = sub.cursor = item["seq"]
                if scope.sees_entry(item["kind"], item["area_path"],
                                    item["organization_id"]) and form.matches(item):
                    yield _sse(item, language)
                if sub.overflowed:  # too slow a reader: make it reconnect and catch up
                    return
        finally:
            HUB.unsubscribe(sub)

    response = StreamingHttpResponse(events(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


def _unauthorized(message: str, challenge: str) -> HttpResponse:
    response = HttpResponse(message, status=401, content_type="text/plain; charset=utf-8")
    response["WWW-Authenticate"] = challenge
    return response


def _live_filter(request, user):
    form = TimelineFilterForm(request.GET, user=user)
    if not form.is_valid():
        return None
    return form.to_filter()


def _backlog(user, flt, after: int, limit: int = 500):
    from sitroom.core.models import JournalEntry

    qs = flt.apply(JournalEntry.objects.visible_to(user)).filter(seq__gt=after)
    entries = qs.select_related("area", "place", "organization").defer(
        "area__boundary").order_by("seq")[:limit]
    events = [queries.entry_event(e) for e in entries]
    # From here on the stream needs no database: give the connection back rather than
    # hold one per open page (PostgreSQL's connection limit).
    connection.close()
    return events


def _sse(item, language: str) -> str:
    data = {k: v for k, v in item.items() if k not in ("html", "hash")}
    data["html"] = item["html"].get(language) or item["html"]["en"]
    return f"id: {item['seq']}\nevent: entry\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
