from django.urls import path

from billops.access.approvals import views

app_name = "approvals"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:request_id>/", views.request_detail, name="request"),
    path("<int:request_id>/approve/", views.approve, name="approve"),
    path("<int:request_id>/reject/", views.reject, name="reject"),
    path("<int:request_id>/cancel/", views.cancel, name="cancel"),
]
