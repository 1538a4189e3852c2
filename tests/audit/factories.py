"""Building audit events for tests, the way services record them: inside a transaction."""

from django.db import transaction

from billops.audit.services import record_event


def record(actor, target, action="test.thing_done", **kwargs):
    with transaction.atomic():
        return record_event(actor=actor, action=action, target=target, **kwargs)
