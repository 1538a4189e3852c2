from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "billops.core"
    label = "core"
