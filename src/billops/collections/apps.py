from django.apps import AppConfig


class CollectionsConfig(AppConfig):
    name = "billops.collections"
    label = "collections"
    verbose_name = "Receivables and collections"
