"""htmx helpers shared by every page that answers htmx with a part of itself."""

from __future__ import annotations


def wants_part(request) -> bool:
    """Whether to answer with the page's part (an htmx swap) rather than the whole page.

    htmx asks for a page again when Back or Forward finds no snapshot of it (pages keep
    none: see base.html) with HX-History-Restore-Request, and puts the answer in place of
    the page's body: that request gets the whole page, or it would lose its controls.
    """
    return bool(request.headers.get("HX-Request")) and not request.headers.get(
        "HX-History-Restore-Request")
