"""A separate process that issues invoices, for the multi-process tests on PostgreSQL.

    python -m tests.invoicing.issuer CUSTOMER_ID USERNAME COUNT   (COUNT 0 = until killed)

It talks to the database named by BILLOPS_DATABASE_URL, exactly as a second web worker would.
"""

from __future__ import annotations

import os
import sys


def main(customer_id: int, username: str, count: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billops.settings")
    import django

    django.setup()
    from billops.access.models import User
    from billops.invoicing.services.lines import LineData
    from billops.invoicing.services.workflow import invoice_now

    actor = User.objects.get(username=username)
    issued = 0
    while count == 0 or issued < count:
        invoice_now(
            customer_id=customer_id, lines=[LineData(quantity="1", product_code="CONSULT")], actor=actor
        )
        issued += 1
        print(issued, flush=True)  # noqa: T201 - the test reads progress from stdout


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]))
