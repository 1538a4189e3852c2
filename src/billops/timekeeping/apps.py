from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TimekeepingConfig(AppConfig):
    name = "billops.timekeeping"
    label = "timekeeping"
    verbose_name = "Time and expense"

    def ready(self) -> None:
        from billops.billing.services.billables import register_source
        from billops.timekeeping.services import billing
        from billops.timekeeping.utbms import ensure_litigation_codes

        register_source("time", billing.pending_time, billing.mark_time_billed, billing.release_time)
        register_source(
            "expense", billing.pending_expenses, billing.mark_expenses_billed, billing.release_expenses
        )
        post_migrate.connect(
            ensure_litigation_codes, sender=self, dispatch_uid="billops.timekeeping.litigation_codes"
        )
