"""`billops clock`: show, set or reset the business date of a test or demo system."""

from __future__ import annotations

import sys
from datetime import date

from billops.access import clock
from billops.access.models import BusinessClock, User
from billops.access.selectors import get_user
from billops.access.services import reset_business_date, set_business_date
from billops.core.errors import InvalidInput


def _actor(username: str) -> User | None:
    if not username:
        return None  # the operator at the shell, recorded as "system"
    return get_user(username, field="user")


def run_clock(*, action: str, value: str = "", username: str = "") -> int:
    if action == "set":
        try:
            on = date.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"{value!r} is not a date (YYYY-MM-DD)", field="business_date") from None
        set_business_date(on=on, actor=_actor(username))
        said = f"business date set to {on.isoformat()}; the real date is ignored until `billops clock reset`"
    elif action == "reset":
        real = reset_business_date(actor=_actor(username))
        said = f"business date reset to the real date, {real.isoformat()}"
    else:
        row = BusinessClock.objects.select_related("set_by").first()
        if row is None:
            said = f"business date {clock.today().isoformat()} (the real date; no test clock is set)"
        else:
            who = row.set_by.username if row.set_by else "the operator"
            since = f"{row.set_at:%Y-%m-%d %H:%M} UTC"
            said = f"business date {row.business_date.isoformat()} (test clock, set by {who} {since})"
    sys.stdout.write(said + "\n")
    return 0
