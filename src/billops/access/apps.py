from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "billops.access"
    label = "access"
    verbose_name = "Users and access"
