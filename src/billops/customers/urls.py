app_name = "customers"

urlpatterns: list = []  # placeholder until this app's pages land
