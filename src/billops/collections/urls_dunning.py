"""The dunning pages, included into `collections/urls.py` (app_name "collections"): reverse them as
"collections:dunning_run" and so on."""

from django.urls import path

from billops.collections.views import dunning

urlpatterns = [
    path("dunning/", dunning.run_page, name="dunning_run"),
    path("dunning/runs/<int:run_id>/", dunning.run_detail, name="dunning_run_detail"),
    path("dunning/policies/", dunning.policies_page, name="dunning_policies"),
    path("dunning/policies/new/", dunning.new_policy, name="dunning_policy_new"),
    path("dunning/policies/products/", dunning.set_up_products, name="dunning_products"),
    path("dunning/policies/<str:code>/", dunning.edit_policy, name="dunning_policy"),
    path("dunning/policies/<str:code>/delete/", dunning.delete_policy, name="dunning_policy_delete"),
    path("dunning/notices/<int:notice_id>/", dunning.notice_page, name="notice"),
    path("dunning/notices/<int:notice_id>/pdf/", dunning.notice_pdf, name="notice_pdf"),
    path("dunning/customers/<int:customer_id>/", dunning.customer_dunning, name="customer_dunning"),
]
