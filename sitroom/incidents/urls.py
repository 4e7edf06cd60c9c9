from django.urls import path

from . import views

app_name = "incidents"
urlpatterns = [
    path("incidents/", views.incident_list, name="list"),
    path("incidents/new", views.incident_new, name="new"),
    path("incidents/bulk", views.bulk_action, name="bulk"),
    path("incidents/import", views.incident_import, name="import"),
    path("incidents/<uuid:uid>/", views.incident_detail, name="detail"),
    path("incidents/<uuid:uid>/edit", views.incident_edit, name="edit"),
    path("incidents/<uuid:uid>/merge", views.incident_merge, name="merge"),
    path("incidents/<uuid:uid>/documents", views.document_add, name="document_add"),
    path("incidents/<uuid:uid>/documents/<uuid:doc>", views.document_file,
         name="document"),
    path("incidents/<uuid:uid>/documents/<uuid:doc>/withdraw", views.document_withdraw,
         name="document_withdraw"),
    path("security/board", views.board, name="board"),
    path("security/figures", views.figures, name="figures"),
    path("security/areas/<str:code>", views.area_security, name="area"),
]
