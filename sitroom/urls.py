from django.urls import include, path

from sitroom.api.api import api
from sitroom.web.urls import auth_urlpatterns

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    *auth_urlpatterns,
    path("", include("sitroom.web.urls")),
]
