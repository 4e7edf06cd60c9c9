"""Small template helpers."""

from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """mapping[key] in a template: {{ row.cells|get_item:code }}."""
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def stale_symbol(status):
    """The symbol of a lifeline status, for showing the last, too old report."""
    from sitroom.lifelines.choices import SYMBOLS

    return SYMBOLS.get(status, "?")


@register.filter
def startswith(text, prefix):
    """Whether text starts with prefix: {% if request.path|startswith:forces_url %}."""
    return str(text).startswith(str(prefix))


@register.filter
def as_of_param(moment):
    """The `as_of` a link carries to keep the page's moment (web.forms.as_of_param),
    URL-encoded: {% if as_of %}?as_of={{ as_of|as_of_param }}{% endif %}."""
    from urllib.parse import quote

    from sitroom.web.forms import as_of_param as param

    return quote(param(moment)) if moment else ""
