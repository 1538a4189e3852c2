"""PostgreSQL triggers: an issued document never changes, only its settlement; its lines, tax summary and
frozen HTML never change; a series never goes back; credit allocations are permanent.

The services already refuse all of this; the triggers stop raw SQL as a second line of defence.
"""

from typing import Any

from django.db import migrations

from billops.core.db import protect_tables

EDITABLE = "('draft', 'submitted', 'approved')"
SETTLEMENT = "ARRAY['status', 'open_amount', 'credited_amount', 'voided_by_id', 'voided_at', 'void_reason', 'void_entry_id']"

FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION billops_invoice_guard() RETURNS trigger AS $$
BEGIN
    IF OLD.status IN {EDITABLE} THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'billops: issued document % cannot be deleted', OLD.number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.status IN {EDITABLE}
       OR (to_jsonb(NEW) - {SETTLEMENT}) IS DISTINCT FROM (to_jsonb(OLD) - {SETTLEMENT}) THEN
        RAISE EXCEPTION 'billops: issued document % is immutable; only its settlement changes', OLD.number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION billops_invoice_part_guard() RETURNS trigger AS $$
DECLARE
    parent_status text;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT status INTO parent_status FROM invoicing_invoice WHERE id = OLD.invoice_id;
        IF parent_status IS NOT NULL AND parent_status NOT IN {EDITABLE} THEN
            RAISE EXCEPTION 'billops: % of an issued document are immutable (% refused)', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        SELECT status INTO parent_status FROM invoicing_invoice WHERE id = NEW.invoice_id;
        IF parent_status IS NOT NULL AND parent_status NOT IN {EDITABLE} THEN
            RAISE EXCEPTION 'billops: % of an issued document are immutable (% refused)', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION billops_issued_document_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.pdf IS NOT NULL
       OR (to_jsonb(NEW) - ARRAY['pdf', 'pdf_sha256', 'rendered_at'])
          IS DISTINCT FROM (to_jsonb(OLD) - ARRAY['pdf', 'pdf_sha256', 'rendered_at']) THEN
        RAISE EXCEPTION 'billops: an issued document''s HTML and PDF are written once (% refused)', TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION billops_series_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.next_number < OLD.next_number OR NEW.prefix <> OLD.prefix
       OR NEW.year <> OLD.year OR NEW.entity_id <> OLD.entity_id OR NEW.document_type <> OLD.document_type THEN
        RAISE EXCEPTION 'billops: a number series only moves forward (% refused)', TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

TRIGGERS = [
    ("invoicing_invoice", "BEFORE UPDATE OR DELETE", "billops_invoice_guard"),
    ("invoicing_invoiceline", "BEFORE INSERT OR UPDATE OR DELETE", "billops_invoice_part_guard"),
    ("invoicing_invoicetax", "BEFORE INSERT OR UPDATE OR DELETE", "billops_invoice_part_guard"),
    ("invoicing_issueddocument", "BEFORE UPDATE OR DELETE", "billops_issued_document_guard"),
    ("invoicing_numberseries", "BEFORE UPDATE OR DELETE", "billops_series_guard"),
]


def forwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTIONS, params=None)
    for table, when, function in TRIGGERS:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_guard {when} ON {table} FOR EACH ROW EXECUTE FUNCTION {function}();"
        )
        schema_editor.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION billops_refuse_change();"
        )


def backwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, _, _ in TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_guard ON {table};")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};")


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0001_initial"), ("ledger", "0002_immutability")]

    operations = [
        migrations.RunPython(forwards, backwards),
        protect_tables("invoicing_creditallocation"),
    ]
