from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "billops.catalog"
    label = "catalog"
    verbose_name = "Catalog"
