"""Reads of a customer's collections profile and activities."""

from __future__ import annotations

from django.db.models import QuerySet

from billops.collections.models import Activity, CollectionProfile


def get_profile(customer_id: int) -> CollectionProfile:
    """The customer's collections profile; an unsaved blank one (nobody assigned) when it has none yet."""
    return CollectionProfile.objects.filter(customer_id=customer_id).first() or CollectionProfile(
        customer_id=customer_id
    )


def list_activities(customer_id: int) -> QuerySet[Activity]:
    return Activity.objects.filter(customer_id=customer_id).select_related("created_by")
