from django.urls import path

from . import views

app_name = "forces"
urlpatterns = [
    path("forces/", views.board, name="board"),
    path("forces/movements/new/", views.movement_new, name="movement_new"),
    path("forces/sites/", views.sites, name="sites"),
    path("forces/sites/guard-posts/new/", views.guard_post_new, name="guard_post_new"),
    path("forces/sites/guard-posts/<str:key>/end/", views.guard_post_end,
         name="guard_post_end"),
    path("forces/sites/reliefs/new/", views.relief_edit, name="relief_new"),
    path("forces/sites/reliefs/<str:key>/", views.relief_edit, name="relief_edit"),
    path("forces/plan/", views.plan, name="plan"),
    path("forces/plan/runs/<int:pk>/", views.run_status, name="run_status"),
    path("forces/plan/runs/<int:pk>/stop/", views.run_stop, name="run_stop"),
    path("forces/plan/<int:pk>/approve/", views.plan_approve, name="plan_approve"),
    path("forces/gantt/", views.gantt, name="gantt"),
]
