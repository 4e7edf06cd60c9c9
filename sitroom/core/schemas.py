"""API shapes of the core domain."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ninja import Schema
from pydantic import AwareDatetime, Field


class NameOut(Schema):
    en: str
    kk: str
    ru: str


class AreaOut(Schema):
    code: str
    level: str
    parent: str | None
    name: NameOut
    lat: float
    lon: float
    centroid_estimated: bool
    population: int | None
    has_boundary: bool

    @staticmethod
    def of(area) -> AreaOut:
        return AreaOut(
            code=area.code, level=area.level,
            parent=area.parent.code if area.parent_id else None,
            name=NameOut(en=area.name, kk=area.name_kk, ru=area.name_ru),
            lat=area.lat, lon=area.lon, centroid_estimated=area.centroid_estimated,
            population=area.population, has_boundary=area.boundary is not None)


class PlaceOut(Schema):
    code: str
    kind: str
    name: NameOut
    lat: float
    lon: float
    area: str
    organization: str | None
    details: str
    estimate: bool
    note: str
    source: str

    @staticmethod
    def of(place) -> PlaceOut:
        return PlaceOut(
            code=place.code, kind=place.kind,
            name=NameOut(en=place.name, kk=place.name_kk, ru=place.name_ru),
            lat=place.lat, lon=place.lon, area=place.area.code,
            organization=place.organization.code if place.organization_id else None,
            details=place.details, estimate=place.estimate, note=place.note,
            source=place.source)


class PlaceIn(Schema):
    code: str = Field(min_length=1, max_length=40)
    kind: str
    name: str = Field(min_length=1, max_length=200)
    name_kk: str = ""
    name_ru: str = ""
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    area: str | None = Field(None, description="area code; found from the point when omitted")
    organization: str | None = None
    details: str = ""
    source: str = ""
    estimate: bool = False
    note: str = ""


class OrganizationOut(Schema):
    code: str
    kind: str
    name: NameOut
    country: str
    area: str | None

    @staticmethod
    def of(org) -> OrganizationOut:
        return OrganizationOut(
            code=org.code, kind=org.kind,
            name=NameOut(en=org.name, kk=org.name_kk, ru=org.name_ru),
            country=org.country, area=org.area.code if org.area_id else None)


class EntryOut(Schema):
    seq: int
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    source: str
    kind: str
    summary: str
    area: str | None
    place: str | None
    organization: str | None
    subject: dict[str, str] | None
    payload: dict[str, Any]
    estimate: bool
    hash: str

    @staticmethod
    def of(e) -> EntryOut:
        return EntryOut(
            seq=e.seq, occurred_at=e.occurred_at.astimezone(UTC),
            recorded_at=e.recorded_at.astimezone(UTC),
            actor=e.actor_label, source=e.source, kind=e.kind, summary=e.summary,
            area=e.area.code if e.area_id else None,
            place=e.place.code if e.place_id else None,
            organization=e.organization.code if e.organization_id else None,
            subject=({"app": e.subject_app, "model": e.subject_model, "id": e.subject_id}
                     if e.subject_app else None),
            payload=e.payload, estimate=e.estimate, hash=e.hash)


class EntryIn(Schema):
    kind: str = Field(description="note, event, decision, statement, movement, ...")
    summary: str = Field(min_length=1, max_length=4000)
    occurred_at: AwareDatetime | None = Field(
        None, description="when it happened, ISO 8601 with offset; default now")
    area: str | None = Field(None, description="area code")
    place: str | None = Field(None, description="place code")
    organization: str | None = Field(None, description="organization code")
    payload: dict[str, Any] = Field(default_factory=dict)
    estimate: bool = False


class Page(Schema):
    next: str | None = Field(None, description="URL of the next page, if any")


class EntryPage(Page):
    items: list[EntryOut]


class AreaPage(Page):
    count: int
    items: list[AreaOut]


class PlacePage(Page):
    count: int
    items: list[PlaceOut]


class OrganizationPage(Page):
    count: int
    items: list[OrganizationOut]


class MeOut(Schema):
    username: str
    role: str | None
    all_areas: bool
    areas: list[str]
    organizations: list[str]
