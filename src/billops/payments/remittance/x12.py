"""Remittance advice as a basic X12 820 (payment order / remittance advice): one interchange, one
functional group, one transaction set, i.e. one payment. The element separator and the segment
terminator are taken from the fixed-width ISA header; the envelope's segment count and control numbers
are checked, and every refusal names the segment (the ISA is segment 1)."""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from billops.core.currencies import MINOR_UNITS
from billops.payments.remittance.advice import (
    MAX_LINES,
    POINT_AMOUNT,
    RemittanceAdvice,
    RemittanceLine,
    RemittanceRejected,
    amount_problem,
    check_size,
    check_text,
    check_total,
    invoice_key,
)

_ISA_LENGTH = 106  # ISA is fixed width: its 4th character separates elements, its 106th ends segments
_ISA_ELEMENTS = 16


@dataclass(frozen=True, slots=True)
class _Segment:
    number: int  # the ISA is 1
    id: str
    elements: list[str]  # without the id: elements[0] is XX01

    def element(self, position: int) -> str:
        return self.elements[position - 1].strip() if position <= len(self.elements) else ""

    def name(self, position: int) -> str:
        return f"{self.id}{position:02d}"

    def reject(self, message: str) -> RemittanceRejected:
        return RemittanceRejected(f"segment {self.number} ({self.id}): {message}", row=self.number)


def parse_edi_820(data: bytes) -> RemittanceAdvice:
    """A basic X12 820 (payment order / remittance advice): one interchange, one group, one transaction set,
    the separators taken from its ISA header. BPR gives the payment's total, TRN its reference, N1*PR the
    payer, CUR the currency; each RMR*IV an invoice line, the RMR06 discount and the ADX adjustments after
    it (negative ADX01, as X12 004010 and later sign them) its deduction. The envelope's segment count and
    control numbers are checked, and the lines must add up to BPR02."""
    check_size(data)
    check_text(data)
    segments = _segments(data)
    return _Reader(segments).advice()


def _segments(data: bytes) -> list[_Segment]:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8").lstrip()
    except UnicodeDecodeError as error:
        raise RemittanceRejected(f"the file is not text (byte 0x{data[error.start]:02X})") from None
    if not text:
        raise RemittanceRejected("the file is empty")
    if not text.startswith("ISA") or len(text) < _ISA_LENGTH:
        raise RemittanceRejected("the file does not start with an ISA header: it is not an X12 interchange")
    separator, terminator = text[3], text[_ISA_LENGTH - 1]
    isa = text[: _ISA_LENGTH - 1].split(separator)
    if (
        len(isa) != _ISA_ELEMENTS + 1
        or separator.isalnum()
        or terminator.isalnum()
        or separator == terminator
    ):
        raise RemittanceRejected(
            f"segment 1 (ISA): the ISA header is {_ISA_LENGTH} characters with {_ISA_ELEMENTS} elements, its "
            f"4th character separating them and its last ending the segment; this one has {len(isa) - 1} "
            f"elements split by {separator!r}",
            row=1,
        )
    segments: list[_Segment] = []
    for raw in text.split(terminator):
        raw = raw.strip("\r\n")
        if not raw.strip():
            continue
        parts = raw.split(separator)
        segments.append(_Segment(len(segments) + 1, parts[0].strip().upper(), parts[1:]))
    return segments


@dataclass
class _Reader:
    """Walks ISA → GS → ST … SE → GE → IEA, reading the transaction set and checking each trailer."""

    segments: list[_Segment]
    payer: str = ""
    reference: str = ""
    currency: str = ""
    total: Decimal | None = None
    lines: list[RemittanceLine] = field(default_factory=list)
    adjustments: dict[int, list[tuple[Decimal, str]]] = field(default_factory=dict)  # RMR segment → ADXs
    first_segment: dict[str, int] = field(default_factory=dict)  # invoice → the RMR that names it

    def advice(self) -> RemittanceAdvice:
        segments = iter(self.segments)
        isa = next(segments)
        gs = self._expect(segments, "GS", after=isa)
        if gs.element(1) != "RA":
            raise gs.reject(f"GS01 is {gs.element(1)!r}, not 'RA': the group holds no remittance advice")
        st = self._expect(segments, "ST", after=gs)
        if st.element(1) != "820":
            raise st.reject(
                f"ST01 is {st.element(1)!r}, not '820': the transaction set is no remittance advice"
            )
        count = 1
        rmr: _Segment | None = None
        bpr: _Segment | None = None
        for segment in segments:
            count += 1
            if segment.id == "SE":
                self._check_se(segment, st, count)
                break
            if segment.id in ("ST", "GS", "GE", "ISA", "IEA"):
                raise segment.reject(
                    f"{segment.id} inside the transaction set that starts at segment {st.number}"
                )
            if segment.id == "BPR":
                if bpr is not None:
                    raise segment.reject(f"a second BPR; the payment is stated in segment {bpr.number}")
                bpr = segment
                self._read_bpr(segment)
            elif segment.id == "TRN":
                self.reference = self.reference or segment.element(2)
            elif segment.id == "CUR":
                self._read_cur(segment)
            elif segment.id == "N1" and segment.element(1) == "PR":
                self.payer = segment.element(2)
            elif segment.id == "ENT":
                rmr = None  # an adjustment after ENT belongs to no invoice line
            elif segment.id == "RMR":
                rmr = segment
                self._read_rmr(segment)
            elif segment.id == "ADX":
                if rmr is None:
                    raise segment.reject(
                        "an adjustment that follows no RMR; billops reads adjustments to an invoice line only"
                    )
                self._read_adx(segment, rmr)
            # other segments (REF, DTM, N2 to N4, PER, NTE, …) carry nothing billops applies
        else:
            raise self._ends(f"without the SE that closes the transaction set of segment {st.number}")
        if bpr is None:
            raise RemittanceRejected(
                f"segment {st.number} (ST): the transaction set has no BPR segment (the payment)",
                row=st.number,
            )
        self._trailers(segments, isa, gs)
        if not self.lines:
            raise RemittanceRejected("the remittance advice names no invoice (no RMR*IV segment)")
        advice = RemittanceAdvice(
            payer=self.payer, payment_reference=self.reference, currency=self.currency, total=self.total,
            lines=[self._with_adjustments(line) for line in self.lines], format="x12-820",
        )  # fmt: skip
        check_total(advice)
        return advice

    def _ends(self, message: str) -> RemittanceRejected:
        last = self.segments[-1]
        return RemittanceRejected(
            f"the file ends at segment {last.number} ({last.id}) {message}", row=last.number
        )

    def _expect(self, segments: Iterator[_Segment], id: str, *, after: _Segment) -> _Segment:
        segment = next(segments, None)
        if segment is None:
            raise self._ends(f"without the {id} that follows {after.id}")
        if segment.id != id:
            raise segment.reject(f"expected {id} after the {after.id} of segment {after.number}")
        return segment

    def _trailers(self, segments: Iterator[_Segment], isa: _Segment, gs: _Segment) -> None:
        ge = next(segments, None)
        if ge is None:
            raise self._ends("without the GE that closes the group")
        if ge.id == "ST":
            raise ge.reject("a second transaction set; billops reads one payment (one ST … SE) per file")
        if ge.id != "GE":
            raise ge.reject("expected GE after the SE")
        _same_count(ge, 1, 1, "transaction sets", "the group")
        _same_control(ge, 2, gs.element(6), f"GS06 of segment {gs.number}")
        iea = next(segments, None)
        if iea is None:
            raise self._ends("without the IEA that closes the interchange")
        if iea.id == "GS":
            raise iea.reject("a second functional group; billops reads one payment per file")
        if iea.id != "IEA":
            raise iea.reject("expected IEA after the GE")
        _same_count(iea, 1, 1, "functional groups", "the interchange")
        _same_control(iea, 2, isa.element(13), "ISA13 of segment 1")
        extra = next(segments, None)
        if extra is not None:
            raise extra.reject(f"the interchange ended at segment {iea.number} (IEA)")

    def _check_se(self, se: _Segment, st: _Segment, count: int) -> None:
        found = se.element(1)
        if not found.isdigit() or int(found) != count:
            raise se.reject(
                f"SE01 is {found!r}, expected {count}: the number of segments from ST (segment {st.number}) "
                f"to SE (segment {se.number})"
            )
        _same_control(se, 2, st.element(2), f"ST02 of segment {st.number}")

    def _amount(self, segment: _Segment, position: int, *, required: bool = True) -> Decimal | None:
        text = segment.element(position)
        if not text:
            if required:
                raise segment.reject(
                    f"{segment.name(position)}, {_AMOUNT_NAMES[segment.id, position]}, is missing"
                )
            return None
        if not POINT_AMOUNT.fullmatch(text):
            raise segment.reject(f"{segment.name(position)} {text!r} is not an amount like 1234.50")
        amount = Decimal(text)
        problem = amount_problem(amount, self.currency)
        if problem:
            raise segment.reject(f"{segment.name(position)} {problem}")
        return amount

    def _read_bpr(self, bpr: _Segment) -> None:
        total = self._amount(bpr, 2)
        flag = bpr.element(3)
        if flag != "C":
            raise bpr.reject(
                f"BPR03 is {flag!r}, not 'C' (credit): billops reads remittances of money paid to us"
            )
        if total is not None and total < 0:
            raise bpr.reject(f"BPR02 {total} is negative; the payment is 0 or more")
        self.total = total

    def _read_cur(self, cur: _Segment) -> None:
        code = cur.element(2).upper()
        if code not in MINOR_UNITS:
            raise cur.reject(f"CUR02 {code!r} is not an ISO 4217 currency code")
        if self.currency or self.lines:
            raise cur.reject("the currency is stated once, after BPR and before the invoice lines (RMR)")
        problem = amount_problem(self.total, code) if self.total is not None else ""
        if problem:
            raise cur.reject(f"BPR02 {problem}")
        self.currency = code

    def _read_rmr(self, rmr: _Segment) -> None:
        if rmr.element(1) != "IV":
            raise rmr.reject(
                f"RMR01 is {rmr.element(1)!r}; billops reads invoice lines (IV) only, "
                "not credit or debit memos or other references"
            )
        number = rmr.element(2)
        if not number:
            raise rmr.reject("RMR02, the invoice number, is empty")
        paid = self._amount(rmr, 4)
        assert paid is not None  # required
        if paid < 0:
            raise rmr.reject(f"RMR04 {paid} is negative; a line pays 0 or more on its invoice")
        discount = self._amount(rmr, 6, required=False) or Decimal(0)
        if discount < 0:
            raise rmr.reject(f"RMR06 {discount} is negative; a discount taken is 0 or more")
        if len(self.lines) >= MAX_LINES:
            raise rmr.reject(f"the advice names more than {MAX_LINES} invoices; split it")
        earlier = self.first_segment.setdefault(invoice_key(number), rmr.number)
        if earlier != rmr.number:
            raise rmr.reject(f"{number} is in segment {earlier} already; an invoice is named once")
        reason = f"discount {discount}" if discount else ""
        self.lines.append(RemittanceLine(rmr.number, number, paid, discount, reason))
        self.adjustments[rmr.number] = []

    def _read_adx(self, adx: _Segment, rmr: _Segment) -> None:
        amount = self._amount(adx, 1)
        assert amount is not None  # required
        code = adx.element(2)
        if not code:
            raise adx.reject("ADX02, the adjustment reason code, is missing")
        if amount > 0:
            raise adx.reject(
                f"ADX01 {amount} adds to the payment; billops reads only adjustments that deduct (ADX01 < 0)"
            )
        self.adjustments[rmr.number].append((-amount, code))

    def _with_adjustments(self, line: RemittanceLine) -> RemittanceLine:
        adjustments = self.adjustments.get(line.row, [])
        if not adjustments:
            return line
        reasons = [line.reason] if line.reason else []
        reasons += [f"adjustment {code} {amount}" for amount, code in adjustments]
        deduction = line.deduction + sum((amount for amount, _ in adjustments), Decimal(0))
        if deduction == 0 and line.amount_paid == 0:
            raise RemittanceRejected(
                f"segment {line.row} (RMR): {line.invoice_number} is paid nothing and nothing is deducted",
                row=line.row,
            )
        return RemittanceLine(line.row, line.invoice_number, line.amount_paid, deduction, "; ".join(reasons))


_AMOUNT_NAMES = {
    ("BPR", 2): "the payment amount",
    ("RMR", 4): "the amount paid",
    ("RMR", 6): "the discount taken",
    ("ADX", 1): "the adjustment amount",
}


def _same_count(segment: _Segment, position: int, expected: int, what: str, where: str) -> None:
    found = segment.element(position)
    if not found.isdigit() or int(found) != expected:
        raise segment.reject(
            f"{segment.name(position)} is {found!r}, expected {expected}: the {what} in {where}"
        )


def _same_control(segment: _Segment, position: int, expected: str, source: str) -> None:
    found = segment.element(position)
    if found != expected:
        raise segment.reject(
            f"{segment.name(position)} is {found!r}, expected {expected!r}: the control number in {source}"
        )
