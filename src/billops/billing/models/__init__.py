"""Billable work that bill runs turn into invoices, and the bill runs themselves."""

from billops.billing.models.charges import Charge
from billops.billing.models.orders import Delivery, OrderLine, SalesOrder
from billops.billing.models.runs import BilledItem, BillRun, BillRunException, BillRunPartition

__all__ = [
    "BillRun", "BillRunException", "BillRunPartition", "BilledItem", "Charge", "Delivery", "OrderLine",
    "SalesOrder",
]  # fmt: skip
