from django.urls import path

from billops.invoicing import views

app_name = "invoicing"

urlpatterns = [
    path("", views.invoice_list, name="list"),
    path("new/", views.invoice_create, name="create"),
    path("new/customers/", views.customer_options, name="customer_options"),
    path("<int:pk>/", views.invoice_detail, name="detail"),
    # a draft
    path("<int:pk>/header/", views.change_header, name="change_header"),
    path("<int:pk>/lines/", views.add_line, name="add_line"),
    path("<int:pk>/lines/<int:line_no>/", views.change_line, name="change_line"),
    path("<int:pk>/lines/<int:line_no>/remove/", views.remove_line, name="remove_line"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/approve/", views.approve, name="approve"),
    path("<int:pk>/reject/", views.reject, name="reject"),
    path("<int:pk>/override-credit-hold/", views.override_hold, name="override_hold"),
    path("<int:pk>/issue/", views.issue, name="issue"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("<int:pk>/preview.pdf", views.preview_pdf, name="preview"),
    # an issued document
    path("<int:pk>/pdf", views.pdf, name="pdf"),
    path("<int:pk>/pdf/sha256/", views.pdf_digest, name="pdf_digest"),
    path("<int:pk>/void/", views.void, name="void"),
    path("<int:pk>/credit-note/", views.credit_note, name="credit_note"),
    path("<int:pk>/debit-note/", views.debit_note, name="debit_note"),
    path("<int:pk>/rebill/", views.rebill, name="rebill"),
]
