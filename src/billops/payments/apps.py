from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "billops.payments"
    label = "payments"
    verbose_name = "Payments and cash application"
