"""What `billops check` counts of collections: the collector's work and its outcomes."""

from __future__ import annotations

from django.db.models import Count

from billops.collections.models import (
    Activity,
    CollectionProfile,
    DunningNotice,
    DunningRun,
    PaymentPlan,
    PromiseToPay,
    Recovery,
    WriteOff,
)


def counts() -> dict[str, int]:
    promises = dict(PromiseToPay.objects.values_list("status").annotate(n=Count("id")).order_by())
    plans = dict(PaymentPlan.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {
        "collectors_assigned": CollectionProfile.objects.filter(collector__isnull=False).count(),
        "activities": Activity.objects.count(),
        **{f"promises_{status}": promises.get(status, 0) for status in PromiseToPay.Status.values},
        "dunning_runs": DunningRun.objects.count(),
        "dunning_notices": DunningNotice.objects.count(),
        "dunning_fee_notes": DunningNotice.objects.filter(debit_note__isnull=False).count(),
        **{f"payment_plans_{status}": plans.get(status, 0) for status in PaymentPlan.Status.values},
        "write_offs": WriteOff.objects.count(),
        "write_off_recoveries": Recovery.objects.count(),
    }
