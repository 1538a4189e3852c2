from django.urls import path
from django.views.generic import RedirectView

from billops.payments import views

app_name = "payments"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="payments:queue"), name="index"),  # the clerk's main screen
    path("receipts/", views.receipt_list, name="receipts"),
    path("receipts/new/", views.record_receipt, name="record_receipt"),
    path("receipts/<int:receipt_id>/", views.receipt_detail, name="receipt"),
    path("receipts/<int:receipt_id>/apply/", views.apply_receipt, name="apply"),
    path("applications/<int:application_id>/unapply/", views.unapply_application, name="unapply"),
    path("receipts/<int:receipt_id>/reverse/", views.reverse_receipt, name="reverse"),
    path("receipts/<int:receipt_id>/refund/", views.refund_receipt, name="refund"),
    path("customers/<int:customer_id>/", views.customer_cash, name="customer"),
    path("queue/", views.queue_page, name="queue"),
    path("queue/rematch/", views.rematch, name="rematch"),
    path("queue/<int:line_id>/resolve/", views.resolve_line, name="resolve_line"),
    path("queue/<int:line_id>/dismiss/", views.dismiss_line, name="dismiss_line"),
    path("queue/<int:line_id>/return/", views.return_line, name="return_line"),
    path("queue/<int:line_id>/refund/", views.refund_line, name="refund_line"),
    path("import/", views.import_file, name="import"),
    path("files/", views.file_list, name="files"),
    path("files/<int:file_id>/", views.file_detail, name="file"),
]
