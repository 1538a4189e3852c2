"""Audit fixtures: a short chain of events about one user."""

import pytest

from billops.audit.models import AuditEvent
from tests.audit.factories import record


@pytest.fixture
def chain(clerk):
    """Five more events after the one that created the clerk; every event, in order."""
    for n in range(1, 6):
        record(clerk, clerk, after={"step": n})
    return list(AuditEvent.objects.order_by("seq"))
