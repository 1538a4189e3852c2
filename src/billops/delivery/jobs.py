"""The in-process job runner: render the PDFs of newly issued documents and send the deliveries that are due.

`billops jobs` runs it in a loop; `billops serve` runs it in a background thread in the embedded mode.
Production will hand the same two steps to Celery workers; they are safe to run in several processes at
once (see `send_due_deliveries`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from django.db import connection

from billops.delivery.services import send_due_deliveries
from billops.invoicing.services.documents import render_pending_pdfs

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 10.0


def run_pending_jobs(now: datetime | None = None, *, stop: threading.Event | None = None) -> dict[str, int]:
    """One pass: render pending PDFs, then send due deliveries; returns what was done."""
    rendered = render_pending_pdfs()
    counts = send_due_deliveries(now=now, stop=stop)
    return {"pdfs_rendered": rendered, **counts.as_dict()}


def run_jobs_forever(
    *,
    interval: float = DEFAULT_INTERVAL_SECONDS,
    stop: threading.Event,
    report: Callable[[dict[str, int]], None] | None = None,
) -> None:
    """Run a pass every `interval` seconds until `stop` is set; a pass that fails is logged, not fatal."""
    while not stop.is_set():
        try:
            done = run_pending_jobs(stop=stop)
        except Exception:  # a loop that runs unattended must outlive one bad pass
            logger.exception("a pass of the job runner failed; the next one runs in %s s", interval)
        else:
            if report is not None:
                report(done)
        finally:
            connection.close()  # this thread's connection; a long-lived one would pin old snapshots
        stop.wait(interval)


def start_job_thread(
    *, interval: float = DEFAULT_INTERVAL_SECONDS
) -> tuple[threading.Thread, threading.Event]:
    """Run the job runner in a daemon thread beside the web server; set the event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_jobs_forever, kwargs={"interval": interval, "stop": stop}, name="billops-jobs", daemon=True
    )
    thread.start()
    return thread, stop
