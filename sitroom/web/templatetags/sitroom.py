"""Small template helpers."""

from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """mapping[key] in a template: {{ row.cells|get_item:code }}."""
    return mapping.get(key) if hasattr(mapping, "get") else None
