"""Template context shared by every staff page: the navigation, where the user is in it, and the test
clock's business date when one is set (every page says so)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from billops.access import clock

NAVIGATION = [
    ("Customers", "customers:list"),
    ("Catalog", "catalog:products"),
    ("Invoices", "invoicing:list"),
    ("Bill runs", "billing:runs"),
    ("Payments", "payments:queue"),
    ("Worklist", "collections:worklist"),
    ("Aging", "collections:aging"),
    ("Dunning", "collections:dunning_run"),
    ("Payment plans", "collections:plans"),
    ("Disputes", "disputes:list"),
    ("Approvals", "approvals:inbox"),
    ("Chart of accounts", "ledger:accounts"),
    ("Trial balance", "ledger:trial_balance"),
    ("Journal", "ledger:journal"),
    ("Periods", "ledger:periods"),
    ("Audit log", "audit:log"),
    ("Deliveries", "delivery:log"),
]
# an item whose pages sit beside its own rather than below it is current anywhere below this address
SECTIONS = {"payments:queue": "payments:index"}


def navigation(request: HttpRequest) -> dict[str, Any]:
    # an item is current on its own page and on the pages below it (a customer under the customer list)
    items = [
        {
            "label": label,
            "url_name": url_name,
            "active": request.path.startswith(reverse(SECTIONS.get(url_name, url_name))),
        }
        for label, url_name in NAVIGATION
    ]
    return {"navigation": items, "test_clock": clock.test_date()}
