"""A customer's collections settings and the collector's record of work on it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class CollectionProfile(models.Model):
    """How a customer's receivables are worked: its collector, the next action planned, dunning exclusion and
    whether the debt has gone to a collection agency. No row: nobody is assigned, dunning as usual."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.PROTECT, related_name="collection_profile"
    )
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    next_action_on = models.DateField(null=True, blank=True)  # the worklist shows the customer from that day
    next_action = models.CharField(max_length=200, blank=True)
    dunning_excluded = models.BooleanField(default=False)
    dunning_exclusion_reason = models.CharField(max_length=200, blank=True)
    # the dunning policy of the customer; None = the default policy of its currency
    dunning_policy = models.ForeignKey(
        "collections.DunningPolicy", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    with_agency_on = models.DateField(null=True, blank=True)  # handed to a collection agency that day
    agency_reference = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(dunning_excluded=False) | ~Q(dunning_exclusion_reason=""),
                name="dunning_exclusion_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"collections of customer {self.customer_id}"


class Activity(models.Model):
    """A call, e-mail or note on a customer's account, with its outcome: the collections timeline."""

    class Kind(models.TextChoices):
        CALL = "call", "Call"
        EMAIL = "email", "E-mail"
        NOTE = "note", "Note"
        LETTER = "letter", "Letter"

    class Outcome(models.TextChoices):
        REACHED = "reached", "Reached, talked"
        NO_ANSWER = "no_answer", "No answer"
        LEFT_MESSAGE = "left_message", "Left a message"
        PROMISED = "promised", "Promised to pay"
        DISPUTED = "disputed", "Disputes the debt"
        REFUSED = "refused", "Refuses to pay"
        WRONG_CONTACT = "wrong_contact", "Wrong contact"
        NONE = "none", "No outcome (a note)"

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.NONE)
    contact = models.CharField(max_length=200, blank=True)  # who was spoken to or written to
    text = models.TextField()
    happened_on = models.DateField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-happened_on", "-id"]
        indexes = [models.Index(fields=["customer", "happened_on"], name="activity_customer_day")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.happened_on}: {self.outcome}"
