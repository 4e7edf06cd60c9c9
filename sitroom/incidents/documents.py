"""Documents attached to incident reports: photos from the field, scans, decrees.

Whoever may report incidents in the incident's area may attach a document to it; whoever
may see the incident may read its documents (and those of the duplicates merged into it).
Adding one is a change of the report: a revision ("document added") and a journal entry
that holds the file's SHA-256, so the file can be checked against the journal later. The
same file sent twice to the same incident (a device retrying) is stored once.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from sitroom.core import filestore
from sitroom.core.actors import Actor
from sitroom.core.errors import InvalidInput
from sitroom.core.i18n import described
from sitroom.core.models import JournalEntry
from sitroom.core.permissions import INCIDENTS_REPORT

from . import cells
from .models import Incident, IncidentDocument
from .services import _bump_and_save, _editable

MAX_DESCRIPTION = 2000


def _clean_name(raw: str | None) -> str:
    """The file's own name, without any folder a browser or device put before it."""
    name = PureWindowsPath(PurePosixPath(str(raw or "")).name).name.strip()
    if not name:
        raise InvalidInput({"file": [_("the file has no name")]})
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:190] + dot + ext) if dot and len(ext) <= 9 else name[:200]
    return name


def add_document(incident: Incident, chunks: Iterable[bytes], *, name: str | None,
                 actor: Actor | Any, source: str, description: str = ""
                 ) -> tuple[IncidentDocument, bool]:
    """Attach a file to an incident; (document, created). Refused, with nothing kept, for
    a user who may not report in the incident's area, a merged report, a file type not
    taken, an empty or too large file."""
    actor = Actor.of(actor)
    name = _clean_name(name)
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput({"description": [
            _("at most %(n)d characters") % {"n": MAX_DESCRIPTION}]})
    _editable(actor, incident, INCIDENTS_REPORT)  # before the bytes are kept
    stored = filestore.store(chunks, name)
    with transaction.atomic():
        incident = Incident.objects.select_for_update(of=("self",)).select_related(
            "area", "type", "subtype").get(pk=incident.pk)
        _editable(actor, incident, INCIDENTS_REPORT)
        known = IncidentDocument.objects.filter(incident=incident, sha256=stored.sha256).first()
        if known is not None:
            return known, False
        document = IncidentDocument(
            incident=incident, name=name, description=description, sha256=stored.sha256,
            size=stored.size, content_type=stored.content_type, added_at=timezone.now(),
            actor_label=actor.label, added_by=actor.user)
        entry = _bump_and_save(
            incident, actor, source, "document_added",
            described(gettext_noop("Document added to incident %(title)s: %(name)s"),
                      title=incident.title, name=name),
            cells.state(incident), at=document.added_at,
            extra={"document": {"uid": str(document.uid), "name": name,
                                "sha256": stored.sha256, "size": stored.size,
                                "content_type": stored.content_type}})
        document.journal_seq = entry.seq
        document.save()
    return document, True


def documents_of(incident: Incident) -> QuerySet:
    """The documents of the incident and of the duplicates merged into it, oldest first."""
    ids = [incident.pk, *Incident.objects.filter(merged_into=incident).values_list(
        "pk", flat=True)]
    return IncidentDocument.objects.filter(incident_id__in=ids).select_related(
        "incident").order_by("added_at", "id")


def document_of(incident: Incident, uid: Any) -> IncidentDocument | None:
    return documents_of(incident).filter(uid=uid).first()


def check_stored() -> list[str]:
    """Every attached document whose file is missing or differs from the digest the
    journal recorded for it, one line each (empty when all are intact)."""
    out = []
    docs = IncidentDocument.objects.select_related("incident").order_by("id")
    for doc in docs.iterator():
        entry = JournalEntry.objects.filter(seq=doc.journal_seq).first()
        recorded = ((entry.payload or {}).get("document") or {}) if entry else {}
        problem = (filestore.problem(doc.sha256, doc.size) if entry is not None
                   else "no journal entry")
        if not problem and (recorded.get("sha256"), recorded.get("size")) != (doc.sha256,
                                                                               doc.size):
            problem = (f"the journal recorded sha256 {recorded.get('sha256')}, size "
                       f"{recorded.get('size')}")
        if problem:
            out.append(f"incident {doc.incident.uid}: document {doc.uid} ({doc.name}, "
                       f"sha256 {doc.sha256}): {problem}")
    return out
