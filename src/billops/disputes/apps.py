from django.apps import AppConfig


class DisputesConfig(AppConfig):
    name = "billops.disputes"
    label = "disputes"
    verbose_name = "Disputes"

    def ready(self) -> None:
        from billops.collections.hooks import DisputeReaders, register_dispute_readers
        from billops.collections.selectors.timeline import register_timeline_source
        from billops.disputes import selectors
        from billops.disputes.services.cases import open_case_for_deduction
        from billops.disputes.services.decisions import forget_rebill_draft
        from billops.invoicing.services.drafts import register_draft_release
        from billops.payments.hooks import on_deduction_left_open

        register_draft_release(forget_rebill_draft)
        # collections sits upstream of disputes: it reads open cases through these, for dunning (the
        # disputed amount is left out), the worklist's priority and a customer's timeline
        register_dispute_readers(
            DisputeReaders(
                disputed_amounts=selectors.disputed_amounts, open_dispute_counts=selectors.open_dispute_counts
            )
        )
        register_timeline_source(selectors.timeline_entries)
        on_deduction_left_open(open_case_for_deduction)  # a remittance deduction left open opens a case
