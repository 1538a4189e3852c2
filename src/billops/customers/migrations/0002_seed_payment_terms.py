"""The payment terms most customers are on, so a new installation can open accounts at once."""

from decimal import Decimal

from django.db import migrations

TERMS = [
    # code, name, kind, days, day_of_month, discount_percent, discount_days
    ("DUE", "Due on receipt", "net_days", 0, None, Decimal("0"), 0),
    ("NET15", "Net 15", "net_days", 15, None, Decimal("0"), 0),
    ("NET30", "Net 30", "net_days", 30, None, Decimal("0"), 0),
    ("NET45", "Net 45", "net_days", 45, None, Decimal("0"), 0),
    ("NET60", "Net 60", "net_days", 60, None, Decimal("0"), 0),
    ("2/10NET30", "2 % 10 days, net 30", "net_days", 30, None, Decimal("2.00"), 10),
    ("15NEXT", "Due on the 15th of the following month", "day_of_month", 0, 15, Decimal("0"), 0),
]


def seed(apps, schema_editor):
    PaymentTerms = apps.get_model("customers", "PaymentTerms")
    for code, name, kind, days, day, percent, discount_days in TERMS:
        PaymentTerms.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "days": days,
                "day_of_month": day,
                "discount_percent": percent,
                "discount_days": discount_days,
            },
        )


def unseed(apps, schema_editor):
    PaymentTerms = apps.get_model("customers", "PaymentTerms")
    PaymentTerms.objects.filter(code__in=[t[0] for t in TERMS], customers__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
