from django.urls import include, path

from billops.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("billops.web.urls")),
    path("customers/", include("billops.customers.urls")),
    path("ledger/", include("billops.ledger.urls")),
    path("audit/", include("billops.audit.urls")),
]
