from django.urls import path

from billops.ledger import views

app_name = "ledger"

urlpatterns = [
    path("accounts/", views.accounts, name="accounts"),
    path("trial-balance/", views.trial_balance, name="trial_balance"),
    path("journal/", views.journal, name="journal"),
    path("journal/<int:pk>/", views.entry, name="entry"),
    path("journal/<int:pk>/reverse/", views.entry_reverse, name="entry_reverse"),
    path("periods/", views.periods, name="periods"),
    path("periods/<str:start_on>/close/", views.period_close, name="period_close"),
    path("periods/<str:start_on>/reopen/", views.period_reopen, name="period_reopen"),
]
