"""Exchange endpoints outside the REST API (OGC API – Features under /ogc/)."""

from django.urls import path, re_path

from . import ogc

app_name = "reports"
urlpatterns: list = [
    # OGC API – Features; a trailing slash is accepted too, as GIS clients differ.
    path("", ogc.landing, name="ogc-landing"),
    re_path(r"^conformance/?$", ogc.conformance, name="ogc-conformance"),
    re_path(r"^openapi/?$", ogc.openapi, name="ogc-openapi"),
    re_path(r"^api/?$", ogc.docs, name="ogc-docs"),
    re_path(r"^collections/?$", ogc.collections, name="ogc-collections"),
    re_path(r"^collections/(?P<collection_id>[^/]+)/?$", ogc.collection,
            name="ogc-collection"),
    re_path(r"^collections/(?P<collection_id>[^/]+)/items/?$", ogc.items, name="ogc-items"),
    re_path(r"^collections/(?P<collection_id>[^/]+)/items/(?P<feature_id>[^/]+)/?$", ogc.item,
            name="ogc-item"),
]
