"""Billable work that bill runs turn into invoices, and the bill runs themselves."""

from billops.billing.models.charges import Charge
from billops.billing.models.contracts import Contract, ContractPrice
from billops.billing.models.orders import Delivery, OrderLine, SalesOrder
from billops.billing.models.runs import BilledItem, BillRun, BillRunDraft, BillRunException, BillRunPartition
from billops.billing.models.subscriptions import (
    Plan,
    PlanPhase,
    ProratedCharge,
    Subscription,
    SubscriptionChange,
)

__all__ = [
    "BillRun", "BillRunDraft", "BillRunException", "BillRunPartition", "BilledItem", "Charge", "Contract",
    "ContractPrice", "Delivery", "OrderLine", "Plan", "PlanPhase", "ProratedCharge", "SalesOrder",
    "Subscription", "SubscriptionChange",
]  # fmt: skip
