from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billops.billing"
    label = "billing"
    verbose_name = "Billable work and bill runs"
