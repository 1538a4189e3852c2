from django.urls import path

from billops.disputes import views

app_name = "disputes"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.new_case, name="new"),
    path("<int:case_id>/", views.case_detail, name="case"),
    path("<int:case_id>/investigate/", views.investigate, name="investigate"),
    path("<int:case_id>/assign/", views.assign, name="assign"),
    path("<int:case_id>/notes/", views.add_note, name="add_note"),
    path("<int:case_id>/attachments/", views.attach, name="attach"),
    path("<int:case_id>/attachments/<int:attachment_id>/", views.download, name="attachment"),
    path("<int:case_id>/reject/", views.reject, name="reject"),
    path("<int:case_id>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:case_id>/resolve-credit/", views.resolve_credit, name="resolve_credit"),
    path("<int:case_id>/resolve-rebill/", views.resolve_rebill, name="resolve_rebill"),
]
