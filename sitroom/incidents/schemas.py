"""API shapes of the security situation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import AwareDatetime, ConfigDict, Field, Strict

# Numbers as JSON numbers: true is not latitude 1, nor "5" a severity.
Number = Annotated[float, Strict()]
Whole = Annotated[int, Strict()]


def utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value else None


class IncidentIn(Schema):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored

    type: str = Field(description="ACLED event type code, e.g. riots")
    subtype: str | None = Field(None, description="sub-type code, e.g. riots.mob_violence")
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    occurred_at: AwareDatetime | None = Field(None, description="default: now")
    lat: Number | None = None
    lon: Number | None = None
    area: str | None = Field(None, description="area code; found from the point if omitted")
    actors: list[str] = []
    fatalities: Whole | None = Field(None, ge=0)
    injured: Whole | None = Field(None, ge=0)
    sources: list[str] = []
    tags: list[str] = []
    severity: Whole = Field(2, ge=1, le=5)
    estimate: bool = False


class IncidentPatch(Schema):
    """Facts only: the status changes through the bulk actions, the rest is the server's."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(None, description="the version you edited; refused if stale")
    type: str | None = None
    subtype: str | None = None
    title: str | None = None
    description: str | None = None
    occurred_at: AwareDatetime | None = None
    lat: Number | None = None
    lon: Number | None = None
    area: str | None = None
    actors: list[str] | None = None
    fatalities: Whole | None = Field(None, ge=0)
    injured: Whole | None = Field(None, ge=0)
    sources: list[str] | None = None
    tags: list[str] | None = None
    severity: Whole | None = Field(None, ge=1, le=5)
    estimate: bool | None = None


class IncidentOut(Schema):
    id: str
    type: str
    subtype: str | None
    title: str
    description: str
    tags: list[str]
    occurred_at: datetime
    recorded_at: datetime
    lat: float | None
    lon: float | None
    area: str
    actors: list[str]
    fatalities: int | None
    injured: int | None
    sources: list[str]
    severity: int
    status: str
    assignee: str | None
    merged_into: str | None
    estimate: bool
    reported_by: str
    version: int
    documents: int = Field(description="documents attached and not withdrawn (as of the "
                                       "list's moment); listed at /incidents/{id}/documents")

    @staticmethod
    def of(i) -> IncidentOut:
        """`i` with its `document_count` (documents.with_document_counts)."""
        return IncidentOut(
            id=str(i.uid), type=i.type.code, subtype=i.subtype.code if i.subtype_id else None,
            title=i.title, description=i.description, tags=i.tags,
            occurred_at=utc(i.occurred_at), recorded_at=utc(i.recorded_at), lat=i.lat,
            lon=i.lon, area=i.area.code, actors=i.actors, fatalities=i.fatalities,
            injured=i.injured, sources=i.sources, severity=i.severity,
            status=getattr(i, "status_then", None) or i.status,
            assignee=i.assignee.get_username() if i.assignee_id else None,
            merged_into=str(i.merged_into.uid) if i.merged_into_id else None,
            estimate=i.estimate, reported_by=i.reported_by, version=i.version,
            documents=i.document_count)

    @staticmethod
    def all(incidents, as_of=None) -> list[IncidentOut]:
        from .documents import with_document_counts

        return [IncidentOut.of(i) for i in with_document_counts(list(incidents), as_of)]


class IncidentPage(Schema):
    items: list[IncidentOut]
    next: str | None


class RevisionOut(Schema):
    incident: str
    number: int
    recorded_at: datetime
    actor: str
    change: str
    status: str
    state: dict


class BulkAction(Schema):
    model_config = ConfigDict(extra="forbid")

    ids: list[str] = Field(min_length=1, max_length=1000)
    action: Literal["verify", "close", "discard", "reopen", "assign"]
    assignee: str | None = Field(
        None, description="with action=assign (required): a user name, or null to unassign")


class MergeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    duplicate: str = Field(description="id of the report to merge into this one")


class CellOut(Schema):
    lat: float
    lon: float
    count: int
    severity: int = Field(description="the highest severity of the incidents in the cell, "
                                      "at every cell size")


class CasualtyIn(Schema):
    area: str
    reporting_body: str = Field(description="organization code")
    category: str
    group: str = "all"
    count: int = Field(ge=0)
    as_of: AwareDatetime
    estimate: bool = False
    source: str = ""
    note: str = ""


class CasualtyOut(Schema):
    id: int
    area: str
    reporting_body: str
    category: str
    group: str
    count: int
    as_of: datetime
    recorded_at: datetime
    estimate: bool
    source: str
    note: str

    @staticmethod
    def of(r) -> CasualtyOut:
        return CasualtyOut(id=r.pk, area=r.area.code, reporting_body=r.reporting_body.code,
                           category=r.category, group=r.group, count=r.count,
                           as_of=utc(r.as_of), recorded_at=utc(r.recorded_at),
                           estimate=r.estimate, source=r.source, note=r.note)


class PostureIn(Schema):
    area: str
    kind: str
    state: str
    effective_at: AwareDatetime
    hours: str = ""
    decree: str = ""
    source: str = ""
    note: str = ""
    estimate: bool = False


class PostureOut(Schema):
    id: int
    area: str
    kind: str
    state: str
    effective_at: datetime
    recorded_at: datetime
    hours: str
    decree: str
    source: str
    note: str
    estimate: bool

    @staticmethod
    def of(c) -> PostureOut:
        return PostureOut(id=c.pk, area=c.area.code, kind=c.kind, state=c.state,
                          effective_at=utc(c.effective_at), recorded_at=utc(c.recorded_at),
                          hours=c.hours, decree=c.decree, source=c.source, note=c.note,
                          estimate=c.estimate)


class SecurityBoardCell(Schema):
    state: str | None
    since: datetime | None
    hours: str
    decree: str
    estimate: bool
    inherited: bool


class SecurityBoardRow(Schema):
    area: str
    name: str
    incidents_24h: int
    posture: dict[str, SecurityBoardCell]


class SecurityBoardOut(Schema):
    moment: datetime
    rows: list[SecurityBoardRow]
