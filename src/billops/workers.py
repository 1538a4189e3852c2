"""The Celery app. With `BILLOPS_BROKER_URL` set (Redis, or RabbitMQ), a bill run's partitions go to the
workers started with `billops worker`, on as many machines as share the database; without it, everything
runs in the process that asks for it (the embedded mode).

A task is acknowledged only when it has finished (`acks_late`), and a worker that dies in the middle of
one hands it back to the broker (`reject_on_worker_lost`): another worker runs it again, which is safe,
since every task here can run twice without doing anything twice.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import worker_process_init

app = Celery("billops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    imports=("billops.billing.tasks",),
    task_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,  # the database holds the outcome: partitions, runs, exceptions
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,  # a worker takes the next partition only when it is free for it
    broker_connection_retry_on_startup=True,
)


@worker_process_init.connect
def _own_database_connections(**_: Any) -> None:
    """A forked worker process opens database connections of its own, never its parent's."""
    from django.db import connections

    connections.close_all()
