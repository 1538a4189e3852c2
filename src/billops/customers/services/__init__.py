"""Every write on customers: master records (records.py) and opening balances (opening_balances.py)."""

from billops.customers.services.opening_balances import post_opening_balance
from billops.customers.services.records import (
    ImportResult,
    add_address,
    add_contact,
    change_address,
    change_contact,
    change_customer,
    create_customer,
    import_customers,
    place_credit_hold,
    put_on_credit_hold,
    release_credit_hold,
    set_credit_limit,
)

__all__ = [
    "ImportResult",
    "add_address",
    "add_contact",
    "change_address",
    "change_contact",
    "change_customer",
    "create_customer",
    "import_customers",
    "place_credit_hold",
    "post_opening_balance",
    "put_on_credit_hold",
    "release_credit_hold",
    "set_credit_limit",
]
