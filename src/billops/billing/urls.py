from django.urls import path

from billops.billing import views

app_name = "billing"

urlpatterns = [
    path("runs/", views.run_list, name="runs"),
    path("runs/preview/", views.run_preview, name="run_preview"),
    path("runs/<int:run_id>/", views.run_detail, name="run"),
    path("runs/<int:run_id>/partitions/", views.run_partitions, name="run_partitions"),
]
