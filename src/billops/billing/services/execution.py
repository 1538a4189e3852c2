"""Carrying out a bill run: in this process (the embedded mode), or on Celery workers when
`BILLOPS_BROKER_URL` is set, in which case this process waits and reports progress."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date

from django.conf import settings

from billops.access.models import User
from billops.access.permissions import require_permission
from billops.billing.models import BillRun, BillRunPartition
from billops.billing.services.runs import PARTITION_SIZE, close_when_complete, open_run, run_partition
from billops.billing.tasks import dispatch_partitions
from billops.core.errors import NotFound

logger = logging.getLogger(__name__)
Progress = Callable[[int, int], None]  # (partitions done, partitions in all)
POLL_SECONDS = 0.5


def _done(run: BillRun) -> int:
    return run.partitions.filter(status=BillRunPartition.Status.DONE).count()


def _carry_out(run: BillRun, progress: Progress | None) -> BillRun:
    total = run.partitions.count()
    if settings.CELERY_BROKER_URL:
        dispatch_partitions(run)
        # until the workers finish it, or one of its partitions fails (the run then stays running)
        while BillRun.objects.filter(pk=run.pk, status=BillRun.Status.RUNNING).exists():
            if run.partitions.filter(status=BillRunPartition.Status.FAILED).exists():
                return BillRun.objects.get(pk=run.pk)
            if progress:
                progress(_done(run), total)
            time.sleep(POLL_SECONDS)
    else:
        to_bill = run.partitions.exclude(status=BillRunPartition.Status.DONE).values_list("pk", flat=True)
        for partition_id in list(to_bill):
            try:
                run_partition(partition_id)
            except Exception:  # recorded on the partition; the others go on, as they do on workers
                logger.exception("bill run %s: partition %s failed", run.pk, partition_id)
            if progress:
                progress(_done(run), total)
        close_when_complete(run.pk)  # a run with no customers due has no partition to close it
    finished = BillRun.objects.get(pk=run.pk)
    if progress and finished.status == BillRun.Status.DONE:
        progress(total, total)
    return finished


def start_run(
    *,
    period: str,
    actor: User,
    invoice_date: date | None = None,
    partition_size: int = PARTITION_SIZE,
    progress: Progress | None = None,
) -> BillRun:
    """Open the month's run and bill all its partitions; returns the run, done, or still running when a
    partition failed (its `error` says why; `resume_run` bills it again)."""
    run = open_run(period=period, actor=actor, invoice_date=invoice_date, partition_size=partition_size)
    return _carry_out(run, progress)


def resume_run(*, run_id: int, actor: User, progress: Progress | None = None) -> BillRun:
    """Bill what a crashed run left: every partition not done. Customers billed before the crash have
    nothing pending any more and are skipped."""
    require_permission(actor, "billing.run")
    run = BillRun.objects.filter(pk=run_id).first()
    if run is None:
        raise NotFound(f"there is no bill run {run_id}", field="run_id")
    return _carry_out(run, progress)
