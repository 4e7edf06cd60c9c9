"""Template context every page needs."""

from django.conf import settings
from django.utils import timezone


def sitroom(request):
    now = timezone.localtime()
    return {
        "SITROOM_TIME_ZONE": settings.TIME_ZONE,
        "SITROOM_UTC_OFFSET": now.strftime("%z")[:3] + ":" + now.strftime("%z")[3:],
        "LANGUAGES": settings.LANGUAGES,
    }
