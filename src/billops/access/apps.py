from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "billops.access"
    label = "access"
    verbose_name = "Users and access"

    def ready(self) -> None:
        from django.core.signals import request_started

        from billops.access.clock import forget

        request_started.connect(forget, dispatch_uid="billops.access.clock.forget")
