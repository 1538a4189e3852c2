from django.urls import path
from django.views.generic import RedirectView

from billops.collections import urls_dunning, urls_plans
from billops.collections.views import aging, worklist

app_name = "collections"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="collections:worklist"), name="index"),
    path("worklist/", worklist.worklist_page, name="worklist"),
    path("aging/", aging.aging_page, name="aging"),
    path("aging/items/", aging.aging_items, name="aging_items"),
    path("customers/<int:customer_id>/", worklist.customer_page, name="customer"),
    path("customers/<int:customer_id>/<slug:action>/", worklist.customer_action, name="customer_action"),
    path("promises/<int:promise_id>/cancel/", worklist.cancel_promise, name="cancel_promise"),
    *urls_dunning.urlpatterns,
    *urls_plans.urlpatterns,
]
