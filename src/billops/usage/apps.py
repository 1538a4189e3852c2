from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "billops.usage"
    label = "usage"
    verbose_name = "Metered usage"

    def ready(self) -> None:
        from billops.billing.services.billables import register_source
        from billops.usage import billables

        register_source(billables.KIND, billables.pending, billables.mark_billed, billables.release)
