from django.apps import AppConfig


class CollectionsConfig(AppConfig):
    name = "billops.collections"
    label = "collections"
    verbose_name = "Receivables and collections"

    def ready(self) -> None:
        from django.urls import reverse

        from billops.access.approvals.registry import ApprovalAction, register_action
        from billops.collections.services.write_offs import ACTION, TARGET, perform_write_off

        def invoice_page(kind: str, pk: int) -> str | None:
            return reverse("invoicing:detail", args=[pk]) if kind == TARGET else None

        register_action(
            ApprovalAction(
                code=ACTION, label="Write off bad debt", perform=perform_write_off, link=invoice_page
            )
        )
