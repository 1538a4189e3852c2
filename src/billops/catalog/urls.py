from django.urls import path

from billops.catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.product_list, name="products"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<str:code>/", views.product_detail, name="product"),
    path("products/<str:code>/edit/", views.product_edit, name="product_edit"),
    path("products/<str:code>/deactivate/", views.product_deactivate, name="product_deactivate"),
    path("tax-codes/", views.tax_codes, name="tax_codes"),
    path("tax-codes/new/", views.tax_code_create, name="tax_code_create"),
    path("tax-codes/rates/", views.tax_rate_add, name="tax_rate_add"),
    path("tax-codes/import/", views.tax_rates_import, name="tax_rates_import"),
    path("price-lists/", views.price_lists, name="price_lists"),
    path("price-lists/<str:code>/", views.price_list_detail, name="price_list"),
    path("price-lists/<str:code>/prices/", views.list_price_set, name="list_price_set"),
    path("price-lists/<str:code>/prices/remove/", views.list_price_remove, name="list_price_remove"),
    path("customers/<int:customer_id>/prices/", views.customer_prices, name="customer_prices"),
    path("customers/<int:customer_id>/prices/set/", views.customer_price_set, name="customer_price_set"),
    path(
        "customers/<int:customer_id>/prices/<int:price_id>/end/",
        views.customer_price_end,
        name="customer_price_end",
    ),
    path("customers/<int:customer_id>/price-list/", views.price_list_assign, name="price_list_assign"),
]
