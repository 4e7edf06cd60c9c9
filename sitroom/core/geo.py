"""Geometry without a GIS database: GeoJSON on areas, shapely at write time."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import shapely
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from shapely.geometry import shape

from .choices import AREA_LEVEL_RANK
from .errors import InvalidInput
from .models import Area


@lru_cache(maxsize=1)
def _prepared(version: str) -> list[tuple[int, Any, int]]:
    shapes = []
    for area in Area.objects.exclude(boundary=None).only("id", "boundary", "level"):
        geom = shape(area.boundary)
        shapely.prepare(geom)
        shapes.append((AREA_LEVEL_RANK[area.level], geom, area.pk))
    shapes.sort(key=lambda t: -t[0])  # deepest level first
    return shapes


def _boundaries_version() -> str:
    """Changes whenever any boundary does, in any process: every boundary change is
    journaled as an "area" entry, so the newest such entry identifies the set. By its
    hash, not its number: a database restored from a backup (or emptied and loaded again)
    can reach the same number with other areas, and a server still holding the old
    shapes then placed points in areas that no longer exist (a server error on the
    incident form)."""
    from .models import JournalEntry

    return JournalEntry.objects.filter(kind="area").order_by("-seq").values_list(
        "hash", flat=True).first() or ""


def area_at(lat: float, lon: float) -> Area | None:
    """The most specific area whose boundary holds the point, if any."""
    found = area_id_at(lat, lon, _prepared(_boundaries_version()))
    return Area.objects.defer("boundary").get(pk=found) if found else None


def area_id_at(lat: float, lon: float, shapes: list[tuple[int, Any, int]]) -> int | None:
    for _rank, geom, pk in shapes:
        if _covers(geom, lon, lat):
            return pk
    return None


def _covers(geom: Any, x: float, y: float) -> bool:
    """Whether the (prepared) polygon holds the point, inside or on its edge: what
    `geom.covers(Point(x, y))` answers, without making the point (a third of the time)."""
    return bool(shapely.intersects_xy(geom, x, y))


@lru_cache(maxsize=1)
def _by_code(version: str) -> dict[str, Any]:
    geoms = {pk: geom for _rank, geom, pk in _prepared(version)}
    return {code: geoms[pk] for pk, code in
            Area.objects.filter(pk__in=list(geoms)).values_list("pk", "code")}


def boundaries_by_code() -> dict[str, Any]:
    """The prepared boundaries by area code (for callers checking many points)."""
    return _by_code(_boundaries_version())


def outside(lat: float, lon: float, path: str, by_code: dict[str, Any] | None = None) -> bool:
    """Whether the point lies outside the area of `path` ("KZ/KZ-ALA/KZ751110/"): outside
    its boundary, or that of its nearest ancestor with one. False when none has one (no
    boundaries loaded: nothing to tell). `by_code`: `boundaries_by_code()`, read once."""
    if by_code is None:
        by_code = boundaries_by_code()
    for code in reversed(path.rstrip("/").split("/")):
        geom = by_code.get(code)
        if geom is not None:
            return not _covers(geom, lon, lat)
    return False


def boundaries() -> list[tuple[int, Any, int]]:
    """The prepared boundaries, deepest level first (for callers looking up many points)."""
    return _prepared(_boundaries_version())


@dataclass
class ImportReport:
    matched: list[tuple[str, str]] = field(default_factory=list)  # (feature label, area code)
    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    unmatched_features: list[str] = field(default_factory=list)
    areas_without_boundary: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [ngettext("matched %(n)d feature to an area", "matched %(n)d features to areas",
                        len(self.matched)) % {"n": len(self.matched)}]
        out += [f"  {label} -> {code}" for label, code in self.matched]
        if self.created:
            out.append(ngettext("created %(n)d area: %(codes)s", "created %(n)d areas: %(codes)s",
                                len(self.created))
                       % {"n": len(self.created), "codes": ", ".join(self.created)})
        if self.unchanged:
            out.append(ngettext("%(n)d boundary already up to date",
                                "%(n)d boundaries already up to date", len(self.unchanged))
                       % {"n": len(self.unchanged)})
        if self.unmatched_features:
            out.append(ngettext("%(n)d feature matched no area: %(labels)s",
                                "%(n)d features matched no area: %(labels)s",
                                len(self.unmatched_features))
                       % {"n": len(self.unmatched_features),
                          "labels": ", ".join(self.unmatched_features)})
        if self.areas_without_boundary:
            out.append(ngettext("%(n)d area still has no boundary: %(codes)s",
                                "%(n)d areas still have no boundary: %(codes)s",
                                len(self.areas_without_boundary))
                       % {"n": len(self.areas_without_boundary),
                          "codes": ", ".join(self.areas_without_boundary)})
        return out


def read_features(path: Path) -> tuple[list[dict[str, Any]], str]:
    """The features of a GeoJSON FeatureCollection, and its attribution (if it has one)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput({"file": _("%(path)s does not exist") % {"path": path}}) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput({"file": _("%(path)s is not JSON: %(error)s")
                                    % {"path": path, "error": exc}}) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise InvalidInput({"file": _("%(path)s is not a GeoJSON FeatureCollection")
                                    % {"path": path}})
    features = data.get("features")
    if not isinstance(features, list):
        raise InvalidInput({"features": _("must be a list")})
    attribution = data.get("attribution")
    return features, attribution if isinstance(attribution, str) else ""


def import_areas(path: Path, *, code_property: str | None, name_property: str | None,
                 actor, source: str, create_level: str | None = None,
                 create_parent: str | None = None) -> ImportReport:
    """Attach the boundaries in a GeoJSON file to areas, all or nothing.

    A feature matches the area whose code equals its `code_property`, or else whose
    English, Kazakh or Russian name equals its `name_property`. With `create_level`
    (and `create_parent`), unmatched features become new areas.
    """
    from . import services

    if not code_property and not name_property:
        raise InvalidInput({"code_property": _("name a code property or a name property")})
    features, attribution = read_features(path)
    by_code = {a.code: a for a in Area.objects.all()}
    by_name: dict[str, Area] = {}
    for area in by_code.values():
        for n in (area.name, area.name_kk, area.name_ru):
            if n:
                by_name.setdefault(n.casefold(), area)
    errors: dict[str, list[str]] = {}
    plan: list[tuple[str, dict[str, Any], Area | None, dict[str, Any]]] = []
    for i, feature in enumerate(features):
        props = (feature or {}).get("properties") or {}
        label = str(props.get(name_property) or props.get(code_property)
                    or _("feature %(n)d") % {"n": i})
        geometry = (feature or {}).get("geometry")
        try:
            geom = shape(geometry)
        except Exception as exc:  # shapely raises several kinds for bad GeoJSON
            errors[f"features[{i}].geometry"] = [_("is not valid GeoJSON geometry: %(error)s")
                                                 % {"error": exc}]
            continue
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            errors[f"features[{i}].geometry"] = [_("is a %(kind)s, expected a polygon")
                                                 % {"kind": geom.geom_type}]
            continue
        if not geom.is_valid:
            # GEOS's own reason, in English like the rest of the technical detail.
            errors[f"features[{i}].geometry"] = [
                _("is not a valid polygon: %(reason)s")
                % {"reason": shapely.is_valid_reason(geom)}]
            continue
        area = None
        if code_property and props.get(code_property) is not None:
            area = by_code.get(str(props[code_property]))
        if area is None and name_property and props.get(name_property):
            area = by_name.get(str(props[name_property]).casefold())
        plan.append((label, geometry, area, props | {"_centroid": geom.centroid}))
    if errors:
        raise InvalidInput(errors)

    report = ImportReport()
    boundary_source = (attribution or Path(path).name)[:300]
    with transaction.atomic():
        for label, geometry, area, props in plan:
            if area is None and create_level:
                code = str(props.get(code_property) or "") if code_property else ""
                centroid = props["_centroid"]
                area, _created = services.save_area(
                    {"code": code, "level": create_level, "parent": create_parent,
                     "name": str(props.get(name_property) or label),
                     "name_kk": str(props.get(f"{name_property}_kk", "") or ""),
                     "name_ru": str(props.get(f"{name_property}_ru", "") or ""),
                     "lat": round(centroid.y, 5), "lon": round(centroid.x, 5)},
                    actor=actor, source=source)
                report.created.append(area.code)
            if area is None:
                report.unmatched_features.append(label)
                continue
            if services.set_area_boundary(area, geometry, boundary_source=boundary_source,
                                          actor=actor, source=source):
                report.matched.append((label, area.code))
            else:
                report.unchanged.append(area.code)
    report.areas_without_boundary = list(
        Area.objects.filter(boundary=None).values_list("code", flat=True))
    return report
