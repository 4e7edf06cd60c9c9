"""Documents attached to incident reports: photos from the field, scans, decrees.

Whoever may report incidents in the incident's area may attach a document to it; whoever
may see the incident may read its documents (and those of the duplicates merged into it).
Adding one is a change of the report: a revision ("document added") and a journal entry
that holds the file's SHA-256, so the file can be checked against the journal later. The
same file sent twice to the same incident (a device retrying) is stored once.

A document attached by mistake (the wrong incident, a photo showing what should not be
shared) is withdrawn, by who added it or by an incident manager, with a reason: a change of
the report like the adding. Nothing is removed: the row keeps who withdrew it, when and
why, the file stays stored and checked, and incident managers can still open it; for
everyone else it is listed as withdrawn and no longer served.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from sitroom.core import filestore
from sitroom.core.actors import Actor
from sitroom.core.errors import InvalidInput, NotAllowed
from sitroom.core.i18n import described
from sitroom.core.models import JournalEntry
from sitroom.core.permissions import INCIDENTS_MANAGE, INCIDENTS_REPORT, can

from . import cells
from .choices import IncidentStatus
from .models import Incident, IncidentDocument, IncidentRevision
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
        if known is not None and known.withdrawn_at is not None:
            raise InvalidInput({"file": [
                _("this file was attached to this incident and withdrawn (%(when)s, by "
                  "%(who)s: %(reason)s)") % withdrawal_text(known)]})
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


def withdrawal_text(doc: IncidentDocument) -> dict[str, str]:
    """When, by whom and why a document was withdrawn, for the messages that say so."""
    return {"when": timezone.localtime(doc.withdrawn_at).strftime("%Y-%m-%d %H:%M"),
            "who": doc.withdrawn_by_label, "reason": doc.withdrawal_reason}


def _withdraws(doc: IncidentDocument, user: Any, manages: bool, reports: bool) -> bool:
    """Who may withdraw a document: an incident manager of the area, or who added it
    while they may still report there (`manages`, `reports`: the user's rights there)."""
    return manages or (reports and doc.added_by_id is not None
                       and doc.added_by_id == getattr(user, "pk", None))


def _rights(user: Any, incident: Incident) -> tuple[bool, bool]:
    """(manages, reports) incidents in the incident's area; a system actor (None) both."""
    if user is None:
        return True, True
    return (can(user, INCIDENTS_MANAGE, area=incident.area),
            can(user, INCIDENTS_REPORT, area=incident.area))


def with_rights(user: Any, incident: Incident, docs: Iterable[IncidentDocument]
                ) -> list[IncidentDocument]:
    """The documents, each with `can_open` and `can_withdraw` for this user (the rights
    looked up once for them all). A withdrawn document's file opens only for the incident
    managers of the area; nothing is withdrawn on a merged report (its documents are
    handled on the one it went into)."""
    manages, reports = _rights(user, incident)
    out = list(docs)
    for d in out:
        d.can_open = d.withdrawn_at is None or manages
        d.can_withdraw = (d.withdrawn_at is None and incident.status != IncidentStatus.MERGED
                          and _withdraws(d, user, manages, reports))
    return out


def may_open(user: Any, incident: Incident, doc: IncidentDocument) -> bool:
    """Whether this user may open the document's file (`with_rights`)."""
    return with_rights(user, incident, [doc])[0].can_open


def withdraw_document(incident: Incident, uid: Any, *, reason: str, actor: Actor | Any,
                      source: str) -> IncidentDocument:
    """Withdraw a document of the incident (or of a duplicate merged into it), saying
    why. Nothing is deleted; the withdrawal is a revision of the report and a journal
    entry naming the file and its digest."""
    actor = Actor.of(actor)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput({"reason": [_("say why the document is withdrawn")]})
    if len(reason) > MAX_DESCRIPTION:
        raise InvalidInput({"reason": [_("at most %(n)d characters") % {"n": MAX_DESCRIPTION}]})
    with transaction.atomic():
        incident = Incident.objects.select_for_update(of=("self",)).select_related(
            "area", "type", "subtype").get(pk=incident.pk)
        doc = documents_of(incident).select_for_update(of=("self",)).filter(uid=uid).first()
        if doc is None:
            raise InvalidInput({"document": [_("no such document on this incident")]})
        if doc.withdrawn_at is not None:
            raise InvalidInput({"document": [
                _("already withdrawn (%(when)s, by %(who)s: %(reason)s)") % withdrawal_text(doc)]})
        manages, reports = _rights(actor.user, incident)
        if not _withdraws(doc, actor.user, manages, reports):
            raise NotAllowed(_("only who added a document or an incident manager may "
                               "withdraw it"))
        _editable(actor, incident, INCIDENTS_MANAGE if manages else INCIDENTS_REPORT)
        doc.withdrawn_at = timezone.now()
        doc.withdrawn_by_label = actor.label
        doc.withdrawn_by = actor.user
        doc.withdrawal_reason = reason
        entry = _bump_and_save(
            incident, actor, source, "document_withdrawn",
            described(gettext_noop("Document withdrawn from incident %(title)s: %(name)s "
                                   "(%(reason)s)"),
                      title=incident.title, name=doc.name, reason=reason),
            cells.state(incident), at=doc.withdrawn_at,
            extra={"document": {"uid": str(doc.uid), "name": doc.name, "sha256": doc.sha256,
                                "withdrawn": True, "reason": reason}})
        doc.withdrawal_seq = entry.seq
        doc.save(update_fields=["withdrawn_at", "withdrawn_by_label", "withdrawn_by",
                                "withdrawal_reason", "withdrawal_seq"])
    return doc


def documents_of(incident: Incident) -> QuerySet:
    """The documents of the incident and of the duplicates merged into it, oldest first."""
    ids = [incident.pk, *Incident.objects.filter(merged_into=incident).values_list(
        "pk", flat=True)]
    return IncidentDocument.objects.filter(incident_id__in=ids).select_related(
        "incident").order_by("added_at", "id")


def _not_withdrawn(as_of: Any) -> QuerySet:
    """The documents listed (as of `as_of` if given: added by then and not withdrawn by
    then)."""
    docs = IncidentDocument.objects.order_by()
    if as_of:
        return docs.filter(added_at__lte=as_of).exclude(withdrawn_at__lte=as_of)
    return docs.filter(withdrawn_at=None)


def _of_duplicates(docs: QuerySet, as_of: Any) -> QuerySet:
    """Of `docs`, those whose report was merged into another by `as_of` (if given): before
    its merge a duplicate's page listed them, not the kept report's."""
    if not as_of:
        return docs
    return docs.filter(merged_by(OuterRef("incident_id"), as_of))


def merged_by(report: Any, as_of: Any) -> Exists:
    """A condition: the report (its id, or an OuterRef) had been merged into another by
    `as_of` (its "merged" revision recorded by then)."""
    return Exists(IncidentRevision.objects.filter(incident_id=report, change="merged",
                                                  recorded_at__lte=as_of))


def _listed(ids: list[int], as_of: Any) -> list[tuple[str, QuerySet]]:
    """The documents the pages of these incidents list, not withdrawn (`_not_withdrawn`),
    as (the field naming the incident whose page lists it, the documents): their own, and
    their merged duplicates'. Two queries, each on an index, rather than one OR that would
    read every document."""
    docs = _not_withdrawn(as_of)
    return [("incident_id", docs.filter(incident_id__in=ids)),
            ("incident__merged_into_id",
             _of_duplicates(docs.filter(incident__merged_into_id__in=ids), as_of))]


def listing_documents(incident: Any, as_of: Any = None) -> Q:
    """A condition on incidents: the page of `incident` (an id, or OuterRef("pk")) lists a
    document (`_listed`). Two EXISTS, each on an index."""
    docs = _not_withdrawn(as_of)
    return (Q(Exists(docs.filter(incident_id=incident)))
            | Q(Exists(_of_duplicates(docs.filter(incident__merged_into_id=incident), as_of))))


def attached(incidents: list[Incident], as_of: Any = None
             ) -> dict[int, list[IncidentDocument]]:
    """For each incident (by pk), the documents its page lists (`_listed`), oldest first."""
    found: dict[int, list[IncidentDocument]] = {i.pk: [] for i in incidents}
    for key, docs in _listed(list(found), as_of):
        for doc in docs.select_related("incident"):
            found[doc.incident_id if key == "incident_id" else doc.incident.merged_into_id
                  ].append(doc)
    for listed in found.values():
        listed.sort(key=lambda d: (d.added_at, d.pk))
    return found


def with_document_counts(incidents: list[Incident], as_of: Any = None) -> list[Incident]:
    """The incidents, each with `document_count`: how many documents its page lists
    (`_listed`), counted by the database."""
    counts = dict.fromkeys((i.pk for i in incidents), 0)
    for key, docs in _listed(list(counts), as_of):
        for pk, n in docs.values_list(key).annotate(n=Count("id")):
            counts[pk] += n
    for i in incidents:
        i.document_count = counts[i.pk]
    return incidents


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
