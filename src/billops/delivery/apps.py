from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "billops.delivery"
    label = "delivery"
    verbose_name = "Delivery"
