"""Collections: who works which customer, what they did, and the arrangements made with late payers."""

from billops.collections.models.dunning import (
    DunningLevel,
    DunningNotice,
    DunningPolicy,
    DunningRun,
    NoticeItem,
)
from billops.collections.models.plans import Instalment, PaymentPlan, PlanItem
from billops.collections.models.profiles import Activity, CollectionProfile
from billops.collections.models.promises import PromiseToPay
from billops.collections.models.write_offs import Recovery, WriteOff

__all__ = [
    "Activity",
    "CollectionProfile",
    "DunningLevel",
    "DunningNotice",
    "DunningPolicy",
    "DunningRun",
    "Instalment",
    "NoticeItem",
    "PaymentPlan",
    "PlanItem",
    "PromiseToPay",
    "Recovery",
    "WriteOff",
]
