from django.urls import path

from billops.delivery import views

app_name = "delivery"

urlpatterns = [
    path("", views.delivery_log, name="log"),
    path("statements/", views.statements, name="statements"),
    path("statements/preview/", views.statement_preview, name="statement_preview"),
    path("<uuid:delivery_id>/", views.delivery_detail, name="detail"),
    path("<uuid:delivery_id>/attachment/", views.delivery_attachment, name="attachment"),
    path("<uuid:delivery_id>/retry/", views.retry, name="retry"),
    path("<uuid:delivery_id>/resend/", views.resend, name="resend"),
]
