"""Exchange endpoints outside the REST API (OGC API – Features under /ogc/)."""

from django.urls import path

app_name = "reports"
urlpatterns: list = [
]
