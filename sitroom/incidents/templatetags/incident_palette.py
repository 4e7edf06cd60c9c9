"""The colours of severities and statuses, from `choices`, for the pages and the map."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, json_script
from django.utils.safestring import mark_safe

from ..choices import SEVERITY_COLOURS, STATUS_COLOURS, IncidentStatus, Severity

register = template.Library()


def _css() -> str:
    rules = []
    for value, (fill, ink) in SEVERITY_COLOURS.items():
        rules.append(f".sev{int(value)}{{background:{fill};color:{ink}}}")
        # A map circle's count, on the circle's fill.
        rules.append(f".leaflet-tooltip.cell-count.ink-{int(value)}{{color:{ink};"
                     "text-shadow:none}")
    for value, (fill, ink, border) in STATUS_COLOURS.items():
        rules.append(f".status.{value}{{background:{fill};color:{ink};border-color:{border}}}")
    return "".join(rules)


@register.simple_tag
def incident_palette() -> str:
    """A <style> for the list's and the page's badges (.sevN, .status.<code>) and, as
    JSON (#incident-palette), the map's colours with their words (for its legend and its
    circles' tooltips)."""
    palette = {
        "severity": {str(int(v)): {"fill": fill, "label": str(Severity(v).label)}
                     for v, (fill, _ink) in SEVERITY_COLOURS.items()},
        "status": {str(v): {"fill": fill, "border": border,
                            "label": str(IncidentStatus(v).label)}
                   for v, (fill, _ink, border) in STATUS_COLOURS.items()},
    }
    return format_html("<style>{}</style>{}", mark_safe(_css()),  # noqa: S308 - our constants
                       json_script(palette, "incident-palette"))


@register.simple_tag
def severity_scale() -> list[dict[str, object]]:
    """The severities, least first, with their colours: for a legend."""
    return [{"value": int(v), "label": Severity(v).label, "fill": fill, "ink": ink}
            for v, (fill, ink) in SEVERITY_COLOURS.items()]

