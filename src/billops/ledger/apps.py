from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "billops.ledger"
    label = "ledger"
