from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "billops.invoicing"
    label = "invoicing"
    verbose_name = "Invoicing"
