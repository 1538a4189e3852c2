from django.db import migrations

from billops.core.db import protect_tables


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        protect_tables("audit_auditevent"),
    ]
