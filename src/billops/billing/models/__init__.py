"""Billable work that bill runs turn into invoices, and the bill runs themselves."""

from billops.billing.models.charges import Charge
from billops.billing.models.orders import Delivery, OrderLine, SalesOrder
from billops.billing.models.runs import BilledItem, BillRun, BillRunException, BillRunPartition
from billops.billing.models.subscriptions import Plan, PlanPhase, Subscription

__all__ = [
    "BillRun", "BillRunException", "BillRunPartition", "BilledItem", "Charge", "Delivery", "OrderLine",
    "Plan", "PlanPhase", "SalesOrder", "Subscription",
]  # fmt: skip
