from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CustomersConfig(AppConfig):
    name = "billops.customers"
    label = "customers"

    def ready(self) -> None:
        from billops.customers.defaults import ensure_default_terms

        post_migrate.connect(
            ensure_default_terms, sender=self, dispatch_uid="billops.customers.default_terms"
        )
