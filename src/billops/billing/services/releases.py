"""Deleting a draft a bill run left for review makes its work pending again, for the next run.

Registered with `invoicing.services.drafts.register_draft_release` in `apps.py`, so it runs inside
`delete_draft`'s transaction: the billed-item records of the draft go, each source marks its items
pending again (`billables.release`), and the release is audited with the keys it freed.
"""

from __future__ import annotations

from billops.access.models import User
from billops.audit.services import record_event
from billops.billing.models import BilledItem
from billops.billing.services import billables
from billops.customers.selectors import get_customer
from billops.invoicing.models import Invoice


def release_draft(invoice: Invoice, actor: User) -> None:
    """Make pending again what a run billed on this draft; nothing when no run made it."""
    # the customer's lock first, as every run takes it: no run reads its work half released
    get_customer(invoice.customer_id, for_update=True)
    keys = list(BilledItem.objects.filter(invoice=invoice).order_by("pk").values_list("key", flat=True))
    if not keys:
        return
    billables.release(keys)
    BilledItem.objects.filter(invoice=invoice).delete()
    record_event(
        actor=actor,
        action="bill_run.work_released",
        target=invoice,
        after={"items": keys, "count": len(keys)},
    )
