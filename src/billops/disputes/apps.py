from django.apps import AppConfig


class DisputesConfig(AppConfig):
    name = "billops.disputes"
    label = "disputes"
    verbose_name = "Disputes"
