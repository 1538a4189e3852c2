from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "billops.web"
    label = "web"
    verbose_name = "Staff workspace"
