"""The default chart of accounts, and how services name the accounts they post to.

Business services post to control accounts by purpose (`debit(RECEIVABLES, …)`), so an operator may
renumber the chart without touching code. Plain accounts without a purpose are named by code (`BANK`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Q

from billops.core.errors import InvalidInput, NotFound
from billops.core.memo import cached
from billops.ledger.models import Account, AccountPurpose, AccountType

Purpose = AccountPurpose  # the purposes themselves, for callers that compare or list them

# control accounts, by purpose
RECEIVABLES = AccountPurpose.RECEIVABLES.value
UNAPPLIED_CASH = AccountPurpose.UNAPPLIED_CASH.value
BANK_CLEARING = AccountPurpose.BANK_CLEARING.value
REVENUE = AccountPurpose.REVENUE.value
TAX_PAYABLE = AccountPurpose.TAX_PAYABLE.value
DISCOUNTS = AccountPurpose.DISCOUNTS.value
WRITE_OFFS = AccountPurpose.WRITE_OFFS.value
PAYMENT_DIFFERENCES = AccountPurpose.PAYMENT_DIFFERENCES.value
SUSPENSE = AccountPurpose.SUSPENSE.value
OPENING_BALANCE_EQUITY = AccountPurpose.OPENING_BALANCE_EQUITY.value

# control accounts whose balance is the sum of a subledger's open items (customers' receivables, receipts
# not yet applied): only the business documents of that subledger post to them, never a manual entry
SUBLEDGER_PURPOSES = frozenset({RECEIVABLES, UNAPPLIED_CASH})
PURPOSES = frozenset(AccountPurpose.values)  # `.values` builds a new list on every read

# plain accounts of the default chart, by code
BANK = "1000"

# (code, name, type, purpose), created by `seed_default_chart` after every migrate
DEFAULT_CHART: list[tuple[str, str, str, str]] = [
    (BANK, "Bank", AccountType.ASSET, ""),
    ("1100", "Bank clearing", AccountType.ASSET, BANK_CLEARING),
    ("1200", "Accounts receivable", AccountType.ASSET, RECEIVABLES),
    ("2100", "Unapplied cash", AccountType.LIABILITY, UNAPPLIED_CASH),
    ("2200", "Tax payable", AccountType.LIABILITY, TAX_PAYABLE),
    ("3900", "Opening balance equity", AccountType.EQUITY, OPENING_BALANCE_EQUITY),
    ("4000", "Revenue", AccountType.REVENUE, REVENUE),
    ("4900", "Discounts allowed", AccountType.REVENUE, DISCOUNTS),  # contra-revenue: normally a debit balance
    ("6900", "Bad debt write-offs", AccountType.EXPENSE, WRITE_OFFS),
    ("6910", "Payment differences", AccountType.EXPENSE, PAYMENT_DIFFERENCES),  # short pays, bank fees
    ("9999", "Suspense", AccountType.ASSET, SUSPENSE),
]


def seed_default_chart(accounts: Any) -> int:
    """Create the default accounts that are missing (by code or purpose); returns how many were created.

    `accounts` is the Account manager to write through; runs after every `migrate` and `flush`.
    """
    created = 0
    for code, name, account_type, purpose in DEFAULT_CHART:
        taken = accounts.filter(code=code).exists() or (purpose and accounts.filter(purpose=purpose).exists())
        if not taken:
            accounts.create(code=code, name=name, type=str(account_type), purpose=purpose)
            created += 1
    return created


def control_account(purpose: str) -> Account:
    """The account that has this purpose (receivables, unapplied_cash, …); NotFound if none has it."""
    if purpose not in PURPOSES:
        raise InvalidInput(f"{purpose!r} is not a control account purpose", field="purpose")
    found = Account.objects.filter(purpose=purpose).first()
    if found is None:
        raise NotFound(
            f"no account is set up as the {AccountPurpose(purpose).label} account", field="purpose"
        )
    return found


def resolve_account(ref: Account | str, *, field: str = "account") -> Account:
    """An account from an Account, a control-account purpose or an account code, read afresh."""
    if isinstance(ref, Account):
        found = Account.objects.filter(pk=ref.pk).first()
        if found is None:
            raise NotFound(f"account {ref.code} does not exist", field=field)
        return found
    if ref in PURPOSES:
        try:
            return control_account(ref)
        except NotFound as exc:
            raise NotFound(exc.message, field=field) from None
    found = Account.objects.filter(code=ref).first()
    if found is None:
        raise NotFound(f"there is no account with code {ref!r}", field=field)
    return found


def resolve_accounts(refs: Sequence[Account | str], *, fields: Sequence[str]) -> list[Account]:
    """Each reference resolved as `resolve_account` resolves it, read afresh, all in one query;
    a missing one raises NotFound naming its field."""
    pks = {ref.pk for ref in refs if isinstance(ref, Account)}
    names = {ref for ref in refs if isinstance(ref, str)}
    found = cached(
        ("accounts", frozenset(pks), frozenset(names)),
        lambda: list(
            Account.objects.filter(Q(pk__in=pks) | Q(purpose__in=names) | Q(code__in=names)).order_by("code")
        ),
    )
    by_pk = {account.pk: account for account in found}
    by_code = {account.code: account for account in found}
    by_purpose: dict[str, Account] = {}
    for account in found:
        by_purpose.setdefault(account.purpose, account)
    accounts = []
    for ref, field in zip(refs, fields, strict=True):
        match: Account | None
        if isinstance(ref, Account):
            match = by_pk.get(ref.pk)
        else:
            match = by_purpose.get(ref) if ref in PURPOSES else by_code.get(ref)
        accounts.append(match or resolve_account(ref, field=field))  # missing: raises NotFound
    return accounts
