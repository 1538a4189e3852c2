from django.apps import AppConfig


class CliConfig(AppConfig):
    name = "billops.cli"
    label = "cli"
