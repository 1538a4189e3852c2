"""The payment plan pages, included into `collections/urls.py` (app_name "collections"): reverse them as
"collections:plan" and so on."""

from django.urls import path

from billops.collections.views import plans

urlpatterns = [
    path("plans/", plans.plans_page, name="plans"),
    path("plans/evaluate/", plans.evaluate_plans, name="evaluate_plans"),
    path("plans/new/<int:customer_id>/", plans.new_plan, name="new_plan"),
    path("plans/<int:plan_id>/", plans.plan_page, name="plan"),
    path("plans/<int:plan_id>/cancel/", plans.cancel_plan, name="cancel_plan"),
]
