from typing import Any

from django.db import migrations

from billops.core.db import protect_tables

# the chart as it was when this migration was written (billops.ledger.accounts.DEFAULT_CHART may move on)
DEFAULT_CHART = [
    ("1000", "Bank", "asset", ""),
    ("1100", "Bank clearing", "asset", "bank_clearing"),
    ("1200", "Accounts receivable", "asset", "receivables"),
    ("2100", "Unapplied cash", "liability", "unapplied_cash"),
    ("2200", "Tax payable", "liability", "tax_payable"),
    ("3900", "Opening balance equity", "equity", "opening_balance_equity"),
    ("4000", "Revenue", "revenue", "revenue"),
    ("4900", "Discounts allowed", "revenue", "discounts"),
    ("6900", "Bad debt write-offs", "expense", "write_offs"),
    ("9999", "Suspense", "asset", "suspense"),
]


def seed_chart(apps: Any, schema_editor: Any) -> None:
    account = apps.get_model("ledger", "Account")
    for code, name, account_type, purpose in DEFAULT_CHART:
        taken = account.objects.filter(code=code).exists() or (
            purpose and account.objects.filter(purpose=purpose).exists()
        )
        if not taken:
            account.objects.create(code=code, name=name, type=account_type, purpose=purpose)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.RunPython(seed_chart, migrations.RunPython.noop),
        # posted entries are never changed: on PostgreSQL the database refuses it too
        protect_tables("ledger_journalentry", "ledger_journalline"),
    ]
