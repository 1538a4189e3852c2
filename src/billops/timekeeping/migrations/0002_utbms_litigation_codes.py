"""The UTBMS litigation code set (phases and tasks, activities, expenses) from data/utbms_litigation.csv."""

from typing import Any

from django.db import migrations

from billops.timekeeping.utbms import ensure_litigation_codes


def load(apps: Any, schema_editor: Any) -> None:
    ensure_litigation_codes(apps, using=schema_editor.connection.alias)


def unload(apps: Any, schema_editor: Any) -> None:
    apps.get_model("timekeeping", "UtbmsCode").objects.using(schema_editor.connection.alias).delete()


class Migration(migrations.Migration):
    dependencies = [("timekeeping", "0001_time_and_expense")]

    operations = [migrations.RunPython(load, unload)]
