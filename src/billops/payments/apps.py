from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "billops.payments"
    label = "payments"
    verbose_name = "Payments and cash application"

    def ready(self) -> None:
        from django.urls import reverse

        from billops.access.approvals.registry import ApprovalAction, register_action
        from billops.payments.services.refunds import ACTION, TARGET, perform_refund

        def receipt_page(kind: str, pk: int) -> str | None:
            return reverse("payments:receipt", args=[pk]) if kind == TARGET else None

        register_action(
            ApprovalAction(
                code=ACTION, label="Refund a credit balance", perform=perform_refund, link=receipt_page
            )
        )
