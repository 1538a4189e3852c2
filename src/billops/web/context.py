"""Template context shared by every staff page: the navigation and where the user is in it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

NAVIGATION = [
    ("Customers", "customers:list", "/customers/"),
    ("Chart of accounts", "ledger:accounts", "/ledger/accounts/"),
    ("Trial balance", "ledger:trial_balance", "/ledger/trial-balance/"),
    ("Journal", "ledger:journal", "/ledger/journal/"),
    ("Periods", "ledger:periods", "/ledger/periods/"),
    ("Audit log", "audit:log", "/audit/"),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    items = [
        {"label": label, "url_name": url_name, "active": request.path.startswith(prefix)}
        for label, url_name, prefix in NAVIGATION
    ]
    return {"navigation": items}
