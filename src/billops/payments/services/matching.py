"""The matching engine: for money in on a bank line, the candidates it could pay, each scored from its
evidence, best first.

Evidence, strongest first:
- invoice numbers (or their RF creditor references) in the remittance text, the end-to-end id or the
  structured reference: the invoices named;
- the payer's account, once a clerk confirmed it belongs to a customer; a customer's own RF reference
  (the one on its statements); the payer's name equal to a customer's name (legal form left out), or
  else like one customer's name only (a typo, an umlaut spelt out or dropped);
- the amount: exactly the open amount of the invoices named, of one open invoice of the customer, or of
  a combination of its oldest open invoices (a bounded search).

| rule | score |
| --- | --- |
| invoices named, amount equal to what they have open | 100 |
| customer by account or RF reference, amount equal to one open invoice | 95 |
| customer by account or RF reference, amount equal to 2 to 4 of its oldest open invoices | 90 |
| customer by name, amount equal to one open invoice | 80 |
| invoices named, short by no more than the write-off tolerance: the rest written off | 90 |
| invoices named, amount differs (a short or an overpayment) | 70 |
| customer by name, amount equal to several open invoices | 70 |
| customer by a similar name (one customer only), amount equal to one open invoice | 65 |
| customer by a similar name, one invoice net of its discount, or several invoices | 60, 55 |
| customer known, the amount matches nothing: oldest first | 50 (similar name: 40) |

A candidate scoring `AUTO_APPLY` or more is applied without a clerk; below it the line waits in the
matching queue with its candidates as ranked suggestions. Every posted line keeps the candidate it was
posted on (rule, fields, score) as its evidence.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from difflib import SequenceMatcher
from typing import Any

from billops.core.money import round_money
from billops.customers.models import Customer
from billops.invoicing.models import DocumentType, Invoice, InvoiceStatus
from billops.payments.models import PayerAccount
from billops.payments.selectors import tolerance_for
from billops.payments.services.applications import Allocation, discount_offered
from billops.payments.services.tolerances import write_off_limit

AUTO_APPLY = 90
COMBINATION_POOL = 12  # the oldest open invoices a combination is looked for in…
COMBINATION_SIZE = 4  # …of at most this many invoices
# a customer known by its name, or by a name like it, scores lower than by its account or RF reference:
# (one invoice's amount, one invoice net of its discount, several invoices)
SCORES_BY_HOW = {"payer name": (80, 75, 70), "similar payer name": (65, 60, 55)}
SIMILAR_NAME = 0.85  # how alike (difflib's ratio) a payer's name must be to a customer's to suggest it
COMMON_WORD = 50  # a word in more customers' names than this does not narrow the search
LEGAL_FORMS = frozenset(
    {"gmbh", "ag", "kg", "ltd", "limited", "llc", "inc", "plc", "sa", "sarl", "sas", "bv", "nv", "co", "corp",
     "company", "srl", "spa", "oy", "ab", "as", "aps", "se", "ug", "ohg", "eurl", "llp", "lp"}
)  # fmt: skip
_WORD = re.compile(r"[A-Za-z0-9]+")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_.-]*[A-Za-z0-9]|[A-Za-z0-9]")


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    id: int
    number: str
    customer_id: int
    open_amount: Decimal
    currency: str
    total: Decimal
    discount_percent: Decimal
    discount_until: date | None

    def discount(self, on: date) -> Decimal:
        """The early-payment discount it offers when paid on `on` (0 outside the window)."""
        return discount_offered(
            total=self.total, open_amount=self.open_amount, percent=self.discount_percent,
            until=self.discount_until, on=on, currency=self.currency,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Candidate:
    """A way to apply the line: to these invoices (each with its amount) of this customer; what is left
    of the line stays unapplied on the customer's account."""

    customer_id: int
    score: int
    rule: str
    fields: dict[str, str] = field(default_factory=dict)  # the evidence: which text said what
    # each invoice with the amount applied, the early-payment discount taken and the shortfall written
    # off, in order; () applies oldest first
    invoices: tuple[Allocation, ...] = ()

    def as_json(self, account_numbers: dict[int, str]) -> dict[str, object]:
        return {
            "customer_id": self.customer_id, "customer": account_numbers.get(self.customer_id, ""),
            "score": self.score, "rule": self.rule, "fields": self.fields,
            "invoices": [
                {"number": item.invoice_number, "amount": str(item.amount), "discount": str(item.discount)}
                | ({"write_off": str(item.write_off)} if item.write_off else {})
                for item in self.invoices
            ],
        }  # fmt: skip


def allocations_of(suggestion: dict[str, Any]) -> list[Allocation]:
    """The allocations a stored suggestion (`Candidate.as_json`) applies: none means oldest first."""
    return [
        Allocation(item["number"], None if item.get("amount") is None else Decimal(item["amount"]),
                   Decimal(item.get("discount") or 0), Decimal(item.get("write_off") or 0))
        for item in suggestion.get("invoices", [])
    ]  # fmt: skip


def compact(text: str) -> str:
    """Letters and digits only, upper case: "INV-2026/0001" and "inv 2026 0001" read alike."""
    return "".join(character for character in text.upper() if character.isalnum())


def plain(text: str) -> str:
    """Without accents, umlauts spelt as banks often drop them: "Müller" and "Muller" read alike."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def name_key(name: str) -> str:
    """A company name without case, punctuation and legal form: "ACME GmbH" and "Acme, gmbh." read alike."""
    return " ".join(word for word in _WORD.findall(name.lower()) if word not in LEGAL_FORMS)


class Matcher:
    """What matching needs, read once for a whole bank file: open invoices by number and by customer,
    known payer accounts, customers by RF reference and by name."""

    def __init__(self, currency: str) -> None:
        self.by_number: dict[str, OpenInvoice] = {}
        self.by_customer: dict[int, list[OpenInvoice]] = defaultdict(list)
        invoices = (
            Invoice.objects.filter(
                document_type=DocumentType.INVOICE, currency=currency, open_amount__gt=0,
                status__in=(InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID),
            )
            .order_by("due_on", "issued_on", "number")
            .values_list(
                "pk", "number", "customer_id", "open_amount", "currency", "total", "early_discount_percent",
                "early_discount_until",
            )
        )  # fmt: skip
        for pk, number, customer_id, open_amount, invoice_currency, total, percent, until in invoices:
            invoice = OpenInvoice(
                pk, number or "", customer_id, open_amount, invoice_currency, total, percent, until
            )
            self.by_number[compact(invoice.number)] = invoice
            self.by_customer[customer_id].append(invoice)
        self.payer_accounts = dict(PayerAccount.objects.values_list("number", "customer_id"))
        self.tolerance = tolerance_for(currency)
        customers = Customer.objects.filter(currency=currency).values_list(
            "pk", "account_number", "legal_name", "trading_name"
        )
        self.account_numbers: dict[int, str] = {}
        self.by_account_number: dict[str, int] = {}
        self.names: dict[int, str] = {}  # as the customer is named, for the evidence
        self.name_keys: dict[int, list[str]] = defaultdict(list)  # plain name keys, for similar names
        self.by_word: dict[str, set[int]] = defaultdict(set)
        names: dict[str, set[int]] = defaultdict(set)
        for pk, account_number, legal_name, trading_name in customers:
            self.account_numbers[pk] = account_number
            self.by_account_number[compact(account_number)] = pk
            self.names[pk] = legal_name
            for key in filter(None, (name_key(legal_name), name_key(trading_name))):
                names[key].add(pk)
                self.name_keys[pk].append(plain(key))
                for word in plain(key).split():
                    self.by_word[word].add(pk)
        # a name two customers share tells nothing
        self.by_name = {key: next(iter(ids)) for key, ids in names.items() if len(ids) == 1}

    def take(self, allocations: Iterable[Allocation]) -> None:
        """What a posted line settled is no longer open to the file's later lines: an invoice paid twice
        in one file is matched once, and the second payment waits."""
        for allocation in allocations:
            key = compact(allocation.invoice_number)
            invoice = self.by_number.get(key)
            if invoice is None:
                continue
            same_customer = self.by_customer[invoice.customer_id]
            index = same_customer.index(invoice)
            left = invoice.open_amount - (allocation.amount or 0) - allocation.discount - allocation.write_off
            if left > 0:
                self.by_number[key] = same_customer[index] = replace(invoice, open_amount=left)
            else:
                del self.by_number[key]
                del same_customer[index]

    # --- evidence ----------------------------------------------------------------------------------

    def named_invoices(self, texts: dict[str, str]) -> tuple[list[OpenInvoice], dict[str, str]]:
        """The open invoices the texts name, by number or RF reference, in the order named."""
        found: list[OpenInvoice] = []
        fields: dict[str, str] = {}
        for name, text in texts.items():
            tokens = _TOKEN.findall(text)
            for start in range(len(tokens)):
                for length in (1, 2, 3):  # "INV-2026-000123", or the same typed with spaces
                    words = tokens[start : start + length]
                    if len(words) < length:
                        break
                    invoice = self._invoice_for(compact("".join(words)))
                    if invoice is not None and invoice not in found:
                        found.append(invoice)
                        fields[name] = (fields[name] + " " if name in fields else "") + " ".join(words)
        return found, fields

    def _invoice_for(self, key: str) -> OpenInvoice | None:
        if key.startswith("RF") and len(key) > 4 and key[2:4].isdigit():
            return self.by_number.get(key[4:])
        return self.by_number.get(key)

    def customer(
        self, *, payer_account: str, texts: dict[str, str], payer_name: str
    ) -> tuple[int, str, str] | None:
        """The customer the line comes from, how it is known and from which field: (id, how, value)."""
        if payer_account and payer_account in self.payer_accounts:
            return self.payer_accounts[payer_account], "payer account", payer_account
        for name, text in texts.items():
            for token in _TOKEN.findall(text):
                key = compact(token)
                if key.startswith("RF") and len(key) > 4 and key[4:] in self.by_account_number:
                    return self.by_account_number[key[4:]], "customer reference", f"{name}: {token}"
        customer_id = self.by_name.get(name_key(payer_name)) if payer_name else None
        if customer_id is not None:
            return customer_id, "payer name", payer_name
        customer_id = self._similar_name(payer_name) if payer_name else None
        if customer_id is not None:
            return customer_id, "similar payer name", f"{payer_name} ~ {self.names[customer_id]}"
        return None

    def _similar_name(self, payer_name: str) -> int | None:
        """The one customer whose name reads like the payer's (a typo, an umlaut spelt out or dropped, a
        word left out): among those sharing a word of 3 letters or more with it (not one in more than
        COMMON_WORD customers' names: "Handels", "Services"), the only one at least SIMILAR_NAME alike;
        None when none is, or two are."""
        key = plain(name_key(payer_name))
        sharing = {
            pk
            for word in key.split()
            if len(word) >= 3 and len(self.by_word.get(word, ())) <= COMMON_WORD
            for pk in self.by_word.get(word, ())
        }
        alike = [
            pk for pk in sorted(sharing)
            if any(SequenceMatcher(None, key, known).ratio() >= SIMILAR_NAME for known in self.name_keys[pk])
        ]  # fmt: skip
        return alike[0] if len(alike) == 1 else None

    # --- candidates --------------------------------------------------------------------------------

    def candidates(
        self,
        *,
        amount: Decimal,
        on: date,
        payer_account: str = "",
        payer_name: str = "",
        texts: dict[str, str],
    ) -> list[Candidate]:
        """Every candidate for money in of `amount` booked `on`, best first (ties: fewer invoices first)."""
        found: list[Candidate] = []
        named, named_fields = self.named_invoices(texts)
        customers = {invoice.customer_id for invoice in named}
        if named and len(customers) == 1:
            found.append(self._for_named(named, amount, named_fields, on))
        known = self.customer(payer_account=payer_account, texts=texts, payer_name=payer_name)
        if known is not None:
            found.extend(self._for_customer(known, amount, on))
        best: dict[tuple[int, tuple[Allocation, ...]], Candidate] = {}
        for candidate in found:
            key = (candidate.customer_id, candidate.invoices)
            if key not in best or best[key].score < candidate.score:
                best[key] = candidate
        return sorted(best.values(), key=lambda c: (-c.score, len(c.invoices)))

    def _for_named(
        self, named: list[OpenInvoice], amount: Decimal, fields: dict[str, str], on: date
    ) -> Candidate:
        customer_id = named[0].customer_id
        open_total = sum((invoice.open_amount for invoice in named), Decimal(0))
        if amount == open_total:
            return Candidate(
                customer_id, 100, "invoices named, amount equal to what they have open", fields,
                tuple(Allocation(invoice.number, invoice.open_amount) for invoice in named),
            )  # fmt: skip
        discounts = [invoice.discount(on) for invoice in named]
        if any(discounts) and amount == open_total - sum(discounts, Decimal(0)):
            return Candidate(
                customer_id, 95, "invoices named, amount net of their early-payment discount", fields,
                tuple(Allocation(i.number, i.open_amount - d, d)
                      for i, d in zip(named, discounts, strict=True)),
            )  # fmt: skip
        short = open_total - amount
        last = named[-1]
        if 0 < short < last.open_amount and short <= write_off_limit(self.tolerance, last.total):
            *paid_in_full, _ = named
            return Candidate(
                customer_id, 90, "invoices named, short within the write-off tolerance: the rest written off",
                fields | {"written off": f"{round_money(short, last.currency).amount} {last.currency}"},
                (*(Allocation(i.number, i.open_amount) for i in paid_in_full),
                 Allocation(last.number, last.open_amount - short, write_off=short)),
            )  # fmt: skip
        rule = (
            "invoices named, amount below what they have open"
            if amount < open_total
            else "invoices named, amount above what they have open: the rest stays unapplied"
        )
        return Candidate(customer_id, 70, rule, fields, _in_order(named, amount))

    def _for_customer(self, known: tuple[int, str, str], amount: Decimal, on: date) -> list[Candidate]:
        customer_id, how, value = known
        # how sure the customer is: its account or reference, its name, a name like it
        exact_score, net_score, several_score = SCORES_BY_HOW.get(how, (95, 90, 90))
        fields = {how: value}
        open_invoices = self.by_customer.get(customer_id, [])
        exact = f"customer by {how}, amount equal to one open invoice"
        found = [
            Candidate(customer_id, exact_score, exact, fields,
                      (Allocation(invoice.number, invoice.open_amount),))
            for invoice in open_invoices
            if invoice.open_amount == amount
        ][:1]  # fmt: skip
        if not found:  # one invoice paid net of its early-payment discount
            net = f"{exact} net of its early-payment discount"
            found = [
                Candidate(customer_id, net_score, net, fields,
                          (Allocation(invoice.number, amount, invoice.discount(on)),))
                for invoice in open_invoices
                if invoice.discount(on) and invoice.open_amount - invoice.discount(on) == amount
            ][:1]  # fmt: skip
        if not found:
            combination = _combination(open_invoices[:COMBINATION_POOL], amount)
            if combination:
                found.append(
                    Candidate(
                        customer_id, several_score,
                        f"customer by {how}, amount equal to {len(combination)} open invoices", fields,
                        tuple(Allocation(invoice.number, invoice.open_amount) for invoice in combination),
                    )
                )  # fmt: skip
        oldest = f"customer by {how}; the amount matches no open invoices: oldest first"
        found.append(Candidate(customer_id, 40 if how == "similar payer name" else 50, oldest, fields))
        return found


def _in_order(invoices: Iterable[OpenInvoice], amount: Decimal) -> tuple[Allocation, ...]:
    """The amount spread over the invoices in order, each as far as it goes."""
    left, spread = amount, []
    for invoice in invoices:
        if left <= 0:
            break
        applied = min(left, invoice.open_amount)
        spread.append(Allocation(invoice.number, applied))
        left -= applied
    return tuple(spread)


def _combination(pool: list[OpenInvoice], amount: Decimal) -> tuple[OpenInvoice, ...] | None:
    """The first combination of 2 to COMBINATION_SIZE invoices of the pool (oldest first) whose open
    amounts add up to the amount exactly; at most a few hundred sums."""
    if sum((invoice.open_amount for invoice in pool), Decimal(0)) < amount:
        return None
    for size in range(2, min(COMBINATION_SIZE, len(pool)) + 1):
        for combination in itertools.combinations(pool, size):
            if sum((invoice.open_amount for invoice in combination), Decimal(0)) == amount:
                return combination
    return None
