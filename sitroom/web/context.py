"""Template context every page needs."""

from django.conf import settings
from django.utils import timezone


def sitroom(request):
    # The offset of the moment the page shows: a page as of 12 January 2022 shows Almaty's
    # times at UTC+06:00, the offset then, not today's UTC+05:00.
    from .forms import as_of_from

    shown = timezone.localtime(as_of_from(request) or timezone.now())
    offset = shown.strftime("%z")
    return {
        "SITROOM_TIME_ZONE": settings.TIME_ZONE,
        "SITROOM_UTC_OFFSET": offset[:3] + ":" + offset[3:],
        "LANGUAGES": settings.LANGUAGES,
    }
