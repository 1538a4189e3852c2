from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billops.billing"
    label = "billing"
    verbose_name = "Billable work and bill runs"

    def ready(self) -> None:
        from billops.billing.services import billables, releases
        from billops.invoicing.services.drafts import register_draft_release

        billables.register_source(
            "subscription_change",
            billables.pending_prorated_charges,
            billables.mark_prorated_charges_billed,
            billables.release_prorated_charges,
        )
        register_draft_release(releases.release_draft)
