"""Collections: who works which customer, what they did, and the arrangements made with late payers."""

from billops.collections.models.profiles import Activity, CollectionProfile
from billops.collections.models.promises import PromiseToPay

__all__ = ["Activity", "CollectionProfile", "PromiseToPay"]
