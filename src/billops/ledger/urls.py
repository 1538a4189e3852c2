app_name = "ledger"

urlpatterns: list = []  # placeholder until this app's pages land
