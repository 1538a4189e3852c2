from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "billops.audit"
    label = "audit"
    verbose_name = "Audit trail"
