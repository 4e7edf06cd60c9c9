from django.urls import path

from . import views

app_name = "lifelines"
urlpatterns = [
    path("lifelines/", views.board, name="board"),
    path("lifelines/<str:area>/<str:component>/", views.cell_history, name="history"),
]
