from django.urls import path

from billops.customers import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("import/", views.customer_import, name="import"),
    path("export/", views.customer_export, name="export"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/credit-hold/", views.place_credit_hold, name="credit_hold"),
    path("<int:pk>/credit-hold/release/", views.release_credit_hold, name="release_hold"),
    path("<int:pk>/credit-limit/", views.set_credit_limit, name="credit_limit"),
    path("<int:pk>/contacts/", views.add_contact, name="add_contact"),
    path("<int:pk>/addresses/", views.add_address, name="add_address"),
]
