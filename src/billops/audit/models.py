"""The audit trail: one append-only, hash-chained row per business action."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    # position in the chain: 1, 2, 3, … with no gaps; the hash of each covers its position
    seq = models.PositiveBigIntegerField(unique=True)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    actor_label = models.CharField(max_length=150)  # the username at the time, kept if the user is renamed
    # "<app>.<past tense>", e.g. "ledger.period_closed"
    action = models.CharField(max_length=80, db_index=True)
    target_type = models.CharField(max_length=80)  # "<app>.<model>", e.g. "customers.customer"
    target_id = models.CharField(max_length=64)
    target_label = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    # the journal entry this action posted, if it moved money (a plain id: audit sits below the ledger)
    journal_entry_id = models.BigIntegerField(null=True, blank=True, unique=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["target_type", "target_id", "seq"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.target_type}:{self.target_id} by {self.actor_label}"


class ChainHead(models.Model):
    """The single row that holds the chain's end; locking it serialises appends."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit chain head at #{self.last_seq}"
