"""An issued document freezes what it shows as JSON instead of its rendered HTML; the PDF is rendered
from that content. Documents issued before keep no HTML: billops has no released version yet, and the
demo is rebuilt from scratch."""

from typing import Any

from django.db import migrations, models

GUARD = """
CREATE OR REPLACE FUNCTION billops_issued_document_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.pdf IS NOT NULL
       OR (to_jsonb(NEW) - ARRAY['pdf', 'pdf_sha256', 'rendered_at'])
          IS DISTINCT FROM (to_jsonb(OLD) - ARRAY['pdf', 'pdf_sha256', 'rendered_at']) THEN
        RAISE EXCEPTION 'billops: an issued document''s frozen content never changes and its PDF is written once (% refused)', TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def reword_guard(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0002_immutability")]

    operations = [
        migrations.RemoveField(model_name="issueddocument", name="html"),
        migrations.RemoveField(model_name="issueddocument", name="html_sha256"),
        migrations.AddField(
            model_name="issueddocument",
            name="content",
            field=models.TextField(default=""),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="issueddocument",
            name="content_sha256",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(reword_guard, migrations.RunPython.noop),
    ]
