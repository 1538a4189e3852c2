from typing import Any

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


def ensure_chain_head(sender: AppConfig, *, using: str = "default", apps: Any = None, **kwargs: Any) -> None:
    """Keep the chain head row in place after `migrate` and after `flush` (which empties every table)."""
    try:
        head = (apps or global_apps).get_model("audit", "ChainHead")
    except LookupError:  # migrated back to before the audit tables existed
        return
    head.objects.using(using).get_or_create(id=1)


class AuditConfig(AppConfig):
    name = "billops.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        post_migrate.connect(ensure_chain_head, sender=self, dispatch_uid="billops.audit.ensure_chain_head")
