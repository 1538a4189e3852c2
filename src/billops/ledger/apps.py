from typing import Any

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


def ensure_default_chart(
    sender: AppConfig, *, using: str = "default", apps: Any = None, **kwargs: Any
) -> None:
    """Put the default chart of accounts in place after `migrate` and after `flush` (which empties it)."""
    from billops.ledger.accounts import seed_default_chart

    try:
        account = (apps or global_apps).get_model("ledger", "Account")
    except LookupError:  # migrated back to before the ledger tables existed
        return
    seed_default_chart(account.objects.db_manager(using))


class LedgerConfig(AppConfig):
    name = "billops.ledger"
    label = "ledger"

    def ready(self) -> None:
        post_migrate.connect(ensure_default_chart, sender=self, dispatch_uid="billops.ledger.default_chart")
