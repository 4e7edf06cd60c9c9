from django.urls import include, path

from sitroom.api.api import api
from sitroom.web.urls import auth_urlpatterns

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("ogc/", include("sitroom.reports.urls")),
    *auth_urlpatterns,
    path("", include("sitroom.incidents.urls")),
    path("", include("sitroom.lifelines.urls")),
    path("", include("sitroom.forces.urls")),
    path("", include("sitroom.web.urls")),
]
