"""The bill-run work that Celery workers do, and sending it to them."""

from __future__ import annotations

from django.conf import settings

from billops.billing.models import BillRun, BillRunPartition
from billops.billing.services.runs import run_partition
from billops.workers import app


@app.task(name="billops.billing.run_partition")
def run_partition_task(partition_id: int) -> None:
    run_partition(partition_id)


def dispatch_partitions(run: BillRun) -> int:
    """Send each partition of the run that is not done to the workers; how many were sent."""
    pending = list(run.partitions.exclude(status=BillRunPartition.Status.DONE).values_list("pk", flat=True))
    with app.connection_for_write(settings.CELERY_BROKER_URL) as connection:
        for partition_id in pending:
            run_partition_task.apply_async((partition_id,), connection=connection)
    return len(pending)
