"""How much of each invoice line is left to credit, and the credit note that gives a case's disputed
amount back: which lines, and what net on each, so that the note's total (net plus the tax that follows
it) is the disputed amount.

A credit note credits a line by its net; the line's tax follows at the original rate, rounded half up
(`invoicing.services.corrections`). A disputed amount is tax included, so each line's net is solved
for: the net whose net + rounded tax is the line's share. Rounding can make a gross amount unreachable
on a line (at 19 %, nets 84.18 and 84.19 give 100.17 and 100.19: 100.18 is never a total); a cent is
then moved to another line of the case. Only when no line can take it is the note one minor unit short
of the disputed amount, never more than it, and `CreditPlan.short_by` says so before anything is issued.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from billops.core.currencies import minor_units
from billops.core.money import Money, Rounding, round_money, split
from billops.disputes.models import DisputeCase
from billops.invoicing.errors import OverCredit
from billops.invoicing.models import Invoice, InvoiceLine, InvoiceStatus
from billops.invoicing.services.corrections import CreditLine


@dataclass(frozen=True, slots=True)
class LineLeft:
    """An invoice line and what of it is not yet credited by issued credit notes."""

    line: InvoiceLine
    net: Decimal
    tax: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax

    def tax_on(self, net: Decimal, currency: str) -> Decimal:
        """The tax a credit of this net carries, as the credit note will compute it."""
        if net >= self.net:
            return self.tax  # crediting all that is left gives back all the tax left
        return round_money(self.line.tax_amount * net / self.line.net, currency, Rounding.HALF_UP).amount


def lines_left(invoice: Invoice) -> list[LineLeft]:
    """Each line of the invoice with the net and tax that issued credit notes have not yet credited."""
    credited = {
        row["credits_line_id"]: row
        for row in InvoiceLine.objects.filter(credits_line__invoice=invoice, invoice__number__isnull=False)
        .exclude(invoice__status=InvoiceStatus.VOID)
        .values("credits_line_id")
        .annotate(net=Sum("net"), tax=Sum("tax_amount"))
        .order_by()
    }
    left = []
    for line in invoice.lines.select_related("invoice").order_by("line_no"):
        done = credited.get(line.pk, {})
        # rounded to the currency: SQLite sums decimals in floating point
        net = round_money(done.get("net") or Decimal(0), invoice.currency).amount
        tax = round_money(done.get("tax") or Decimal(0), invoice.currency).amount
        left.append(LineLeft(line, max(line.net - net, Decimal(0)), max(line.tax_amount - tax, Decimal(0))))
    return left


@dataclass(frozen=True, slots=True)
class PlannedCredit:
    """One line of the credit note: a net of an invoice line, and the tax that comes with it."""

    left: LineLeft
    net: Decimal
    tax: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax

    @property
    def line_no(self) -> int:
        return self.left.line.line_no

    @property
    def is_whole(self) -> bool:
        return self.net >= self.left.net

    def credit_line(self) -> CreditLine:
        # "what is left" rather than its amount: the credit note then takes exactly the tax left
        return CreditLine(self.line_no) if self.is_whole else CreditLine(self.line_no, amount=self.net)


@dataclass(frozen=True, slots=True)
class CreditPlan:
    currency: str
    target: Decimal  # the disputed amount
    lines: list[PlannedCredit]

    @property
    def total(self) -> Decimal:
        return sum((line.gross for line in self.lines), Decimal(0))

    @property
    def short_by(self) -> Decimal:
        """What tax rounding keeps the note below the disputed amount: zero but in rare cases."""
        return self.target - self.total

    def credit_lines(self) -> list[CreditLine]:
        return [line.credit_line() for line in self.lines]


class _Solver:
    """Nets per line whose gross amounts add up to a target, one minor unit at a time."""

    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.unit = Decimal(1).scaleb(-minor_units(currency))

    def gross(self, left: LineLeft, net: Decimal) -> Decimal:
        return net + left.tax_on(net, self.currency)

    def nearest(self, left: LineLeft, target: Decimal) -> Decimal:
        """The net whose gross is the target, or the nearest below it (the smallest net at least)."""
        if target >= left.gross:
            return left.net
        ratio = left.line.net / (left.line.net + left.line.tax_amount)
        guess = round_money(target * ratio, self.currency).amount
        candidates = [guess + step * self.unit for step in range(-2, 3)]
        candidates = [net for net in candidates if 0 < net <= left.net] or [min(self.unit, left.net)]
        below = [net for net in candidates if self.gross(left, net) <= target]
        return max(below, key=lambda net: self.gross(left, net)) if below else min(candidates)

    def step(self, left: LineLeft, net: Decimal, direction: int) -> Decimal | None:
        """The next net up or down, if the line has one (never nothing, never more than is left)."""
        moved = net + direction * self.unit
        return moved if 0 < moved <= left.net else None

    def balance(self, nets: list[Decimal], lefts: Sequence[LineLeft], target: Decimal) -> list[Decimal]:
        """Move single units between lines until the grosses add up to the target, or no move helps."""
        nets = list(nets)
        grosses = [self.gross(left, net) for left, net in zip(lefts, nets, strict=True)]
        for _ in range(4 * len(nets) + 8):  # every change closes the gap, so this ends well before
            gap = target - sum(grosses, Decimal(0))
            if gap == 0:
                break
            moves = []
            for index, (left, net) in enumerate(zip(lefts, nets, strict=True)):
                for direction in (1, -1):
                    moved = self.step(left, net, direction)
                    if moved is not None:
                        moves.append((self.gross(left, moved) - grosses[index], index, moved))
            changes = _closing(moves, gap)
            if not changes:
                break
            for index, moved in changes:
                nets[index], grosses[index] = moved, self.gross(lefts[index], moved)
        # never more than disputed: an excess comes off the first line that can give a unit
        while sum(grosses, Decimal(0)) > target:
            down = next(
                (
                    (index, moved)
                    for index, (left, net) in enumerate(zip(lefts, nets, strict=True))
                    if (moved := self.step(left, net, -1)) is not None
                ),
                None,
            )
            if down is None:
                break
            nets[down[0]], grosses[down[0]] = down[1], self.gross(lefts[down[0]], down[1])
        return nets


def _closing(moves: list[tuple[Decimal, int, Decimal]], gap: Decimal) -> list[tuple[int, Decimal]]:
    """The change that closes the gap: one move, two moves on different lines, or else the one move that
    comes closest without passing it; none when nothing helps."""
    for delta, index, moved in moves:
        if delta == gap:
            return [(index, moved)]
    by_delta: dict[Decimal, list[tuple[int, Decimal]]] = {}
    for delta, index, moved in moves:
        by_delta.setdefault(delta, []).append((index, moved))
    for delta, index, moved in moves:
        for other, other_moved in by_delta.get(gap - delta, []):
            if other != index:
                return [(index, moved), (other, other_moved)]
    closer = [(delta, index, moved) for delta, index, moved in moves if 0 < delta / gap < 1]
    if not closer:
        return []
    _, index, moved = max(closer, key=lambda move: abs(move[0]))
    return [(index, moved)]


def plan_credit(currency: str, targets: Sequence[tuple[LineLeft, Decimal]]) -> CreditPlan:
    """The credit note lines that give back each line's target (tax included), adding up to their sum."""
    solver = _Solver(currency)
    wanted = [(left, target) for left, target in targets if target > 0 and left.net > 0]
    lefts = [left for left, _ in wanted]
    total = sum((target for _, target in targets), Decimal(0))
    nets = solver.balance([solver.nearest(left, target) for left, target in wanted], lefts, total)
    planned = [
        PlannedCredit(left, net, left.tax_on(net, currency)) for left, net in zip(lefts, nets, strict=True)
    ]
    return CreditPlan(currency, total, planned)


def spread(amount: Decimal, currency: str, lefts: Sequence[LineLeft]) -> list[tuple[LineLeft, Decimal]]:
    """An amount disputed on the whole invoice, shared over its lines in proportion to what each has left
    (`core.money.split`: the parts add up to the amount)."""
    open_lines = [left for left in lefts if left.gross > 0]
    if not open_lines:
        return []
    parts = split(Money(amount, currency), [left.gross for left in open_lines])
    return [(left, part.amount) for left, part in zip(open_lines, parts, strict=True)]


def case_credit_plan(case: DisputeCase) -> CreditPlan:
    """The credit note that gives the case's disputed amount back: per disputed line, or spread over the
    invoice's lines; refused when the invoice has been credited since and cannot take it any more."""
    invoice, currency = case.invoice, case.currency
    lefts = lines_left(invoice)
    disputed = list(case.lines.select_related("line").order_by("line__line_no"))
    if disputed:
        by_line = {left.line.pk: left for left in lefts}
        targets = [(by_line[claim.line_id], claim.amount) for claim in disputed]
        for index, (left, amount) in enumerate(targets, start=1):
            if amount > left.gross:
                raise OverCredit(
                    f"line {left.line.line_no} has {round_money(left.gross, currency)} left to credit, less "
                    f"than the {round_money(amount, currency)} disputed: it was credited since",
                    field=f"lines[{index}].amount",
                )
    else:
        creditable = sum((left.gross for left in lefts), Decimal(0))
        if case.amount > creditable:
            raise OverCredit(
                f"{invoice} has {round_money(creditable, currency)} left to credit, less than the "
                f"{round_money(case.amount, currency)} disputed: it was credited since",
                field="amount",
            )
        targets = spread(case.amount, currency, lefts)
    return plan_credit(currency, targets)
