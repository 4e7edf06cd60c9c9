from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "sitroom.web"
    label = "web"
