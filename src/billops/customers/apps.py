from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "billops.customers"
    label = "customers"
