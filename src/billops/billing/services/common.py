"""What capturing any billable work shares: a customer that takes new work, and pricing as an invoice
line of the work's date would be priced."""

from __future__ import annotations

from datetime import date

from billops.core.errors import InvalidInput
from billops.customers.models import Customer
from billops.customers.selectors import get_customer
from billops.invoicing.models import Invoice, InvoiceLine
from billops.invoicing.services.lines import LineData, build_line


def customer_taking_work(customer_id: int) -> Customer:
    customer = get_customer(customer_id)
    if customer.status == Customer.Status.CLOSED:
        raise InvalidInput(f"{customer.account_number} is closed and takes no new work", field="customer_id")
    return customer


def priced_line(customer: Customer, line: LineData, on: date, prefix: str = "") -> InvoiceLine:
    """The line checked and priced exactly as a line of the customer's invoice dated `on` would be: a
    product fills in the description, unit, price (the customer's on that day) and tax code left out."""
    # the unsaved document is only the pricing context: the customer, its currency and the date
    document = Invoice(customer=customer, currency=customer.currency, issued_on=on)
    return build_line(document, line, line_no=1, prefix=prefix)
