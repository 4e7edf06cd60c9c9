from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "sitroom.api"
    label = "api"
