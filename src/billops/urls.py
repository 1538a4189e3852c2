from django.urls import include, path

from billops.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("billops.web.urls")),
    path("customers/", include("billops.customers.urls")),
    path("ledger/", include("billops.ledger.urls")),
    path("audit/", include("billops.audit.urls")),
    path("catalog/", include("billops.catalog.urls")),
    path("invoices/", include("billops.invoicing.urls")),
    path("delivery/", include("billops.delivery.urls")),
    path("billing/", include("billops.billing.urls")),
    path("payments/", include("billops.payments.urls")),
    path("collections/", include("billops.collections.urls")),
    path("disputes/", include("billops.disputes.urls")),
    path("approvals/", include("billops.access.urls")),
]
