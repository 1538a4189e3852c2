from django.db import migrations

from billops.core.db import protect_tables


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        # posted entries are never changed: on PostgreSQL the database refuses it too
        protect_tables("ledger_journalentry", "ledger_journalline"),
    ]
