"""SWIFT MT940 customer statements: read into one `ParsedStatement` per statement (:20: … :62F:), and written
from statements for tests and the demo.

The file is split into its fields here, each with its line, because mt-940 gives no positions. The mt-940
library then reads the balances (:60F:/:60M:, :62F:/:62M:) and the statement lines (:61:), one field at a
time so that any error it raises has its line: amounts with their sign (RC, the reversal of a credit, is
money out: an option, not the library's default), value dates, and the entry date, which has no year, put
in the right year. This module checks what the library's patterns let through: an amount that is not a
number (they read "12A,00" as 12), characters after a balance, a funds code of another currency. It reads
:20:, :25:, :28C: and :86: itself: the library cuts :20: to 16 and :25: to 35 characters without a word,
its :61: pattern moves the bank reference into the supplementary details when the account owner's
reference is longer than 16 characters, and its :86: parser keeps only the part of ?20 to ?29 after SVWZ+.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import mt940
from mt940.models import Transactions
from mt940.tags import StatementGLS

from billops.core.currencies import minor_units
from billops.payments.statements.bai import numbered_lines, to_minor_units, yymmdd
from billops.payments.statements.parsed import (
    ParsedStatement,
    StatementLine,
    StatementRejected,
    check_amount,
    check_statement,
    clean_text,
    compact,
    known_currency,
)

FORMAT = "mt940"

_ENCODINGS = ("utf-8", "iso-8859-1")  # German banks write names and purposes in Latin-1
_NAMES = {
    "20": "statement reference",
    "25": "account identification",
    "28": "statement number",
    "28C": "statement number",
    "60F": "opening balance",
    "60M": "opening balance",
    "61": "statement line",
    "62F": "closing balance",
    "62M": "closing balance",
    "86": "information to the account owner",
}
_ONCE = {"25": "25", "28": "28C", "28C": "28C", "60F": "60", "60M": "60", "62F": "62", "62M": "62"}
_REQUIRED = {
    "25": "account identification (:25:)",
    "28C": "statement number (:28C:)",
    "60": "opening balance (:60F:)",
    "62": "closing balance (:62F:)",
}
_NOT_READ = {"13", "13D", "21", "34F", "64", "65", "90C", "90D", "NS"}  # known, but nothing billops needs
_TAG = re.compile(r":(?P<tag>[0-9]{2}[A-Z]?|NS):(?P<value>.*)")
_STATEMENT_NUMBER = re.compile(r"[0-9]{1,5}(?:/[0-9]{1,5})?")
_BALANCE = re.compile(r"(?P<mark>[CD])(?P<date>[0-9]{6})(?P<currency>[A-Z]{3})(?P<amount>.*)")
_STATEMENT_LINE = re.compile(
    r"(?P<value_date>[0-9]{6})(?P<entry_date>[0-9]{4})?(?P<mark>RC|RD|C|D)(?P<funds_code>[A-Z](?=[0-9,]))?"
    r"(?P<amount>.*?)(?P<type>[SNF][A-Z0-9]{3})(?P<owner_reference>.*?)(?://(?P<bank_reference>.*))?"
)
_AMOUNT = re.compile(r"[0-9]+(?:,[0-9]*)?")
_AMOUNT_LENGTH = 15  # SWIFT 15d: digits and the decimal comma
_NO_REFERENCE = "NONREF"
_STRUCTURED = re.compile(r"[0-9]{3}\?[0-9]{2}")  # a 3-digit GVC, then ?NN subfields (German layout)
_SUBFIELD = re.compile(r"\?([0-9]{2})")
_PURPOSE = (*(f"2{n}" for n in range(10)), "60", "61", "62", "63")
_SEPA_KEYWORD = re.compile(r"[A-Z]{4}\+")  # EREF+, SVWZ+, …: each starts a new ?2x subfield
_OPTIONS = mt940.Options(reversal_sign=True)

_STATEMENT_ID = re.compile(r"(?P<reference>.+?)/(?P<number>[0-9]{1,5}(?:/[0-9]{1,5})?)")
_TRANSACTION_TYPE = re.compile(r"[SNF][A-Z0-9]{3}")
_DEFAULT_TYPE = "NTRF"
_GVC_CREDIT, _GVC_DEBIT = "166", "116"  # the German transaction codes the writer puts before ?20
_MAX_ENTRY_GAP_DAYS = 35  # beyond this the reader cannot tell the entry date's year from the value date's
_SWIFT_LINE = 65
_YEARS = range(2000, 2100)  # mt-940 reads YY as 20YY


def parse_mt940(data: bytes) -> list[ParsedStatement]:
    """Read an MT940 file into one statement per :20: … :62F:; the whole file is refused on the first
    problem, with its line."""
    statements = [_statement(block) for block in _blocks(_fields(numbered_lines(data, encodings=_ENCODINGS)))]
    for statement in statements:
        check_statement(statement)
    return statements


@dataclass(slots=True)
class _Field:
    tag: str
    line: int
    lines: list[str]

    @property
    def value(self) -> str:
        return "\n".join(self.lines)

    @property
    def name(self) -> str:
        return f"{_NAMES.get(self.tag, 'field')} (:{self.tag}:)"


def _fields(lines: list[tuple[int, str]]) -> list[_Field]:
    fields: list[_Field] = []
    for number, raw in lines:
        text = raw.rstrip()
        if text.startswith("{") or text == "-" or text.startswith("-}"):
            continue  # the SWIFT envelope ({1:…}{2:…}{4:) and the end of a message
        if match := _TAG.match(text):
            fields.append(_Field(match["tag"], number, [match["value"]]))
        elif fields:
            fields[-1].lines.append(text)
        else:
            raise StatementRejected(
                f"{text[:20]!r} is not an MT940 field: a statement starts with its reference (:20:)",
                line=number,
            )
    return fields


def _blocks(fields: list[_Field]) -> list[list[_Field]]:
    blocks: list[list[_Field]] = []
    for field in fields:
        if field.tag == "20":
            blocks.append([field])
        elif blocks:
            blocks[-1].append(field)
        else:
            raise StatementRejected(
                f"the {field.name} comes before the first statement reference (:20:)", line=field.line
            )
    return blocks


def _statement(block: list[_Field]) -> ParsedStatement:
    head = block[0]
    reference = head.value.strip()
    if not reference:
        raise StatementRejected("the statement reference (:20:) is empty", line=head.line)
    once, entries = _arranged(block, reference)
    number = once["28C"].value.strip()
    if not _STATEMENT_NUMBER.fullmatch(number):
        raise StatementRejected(
            f"the {once['28C'].name} {number!r} is not a number like 00042 or 00042/001",
            line=once["28C"].line,
        )
    context = Transactions(tags={StatementGLS.id: StatementGLS()}, options=_OPTIONS)
    opening, opening_on, currency = _balance(context, once["60"])
    known_currency(currency, where=f"of the {once['60'].name}", line=once["60"].line)
    check_amount(opening, currency, line=once["60"].line)
    lines = [_statement_line(context, entry, details, currency) for entry, details in entries]
    closing, closing_on, closing_currency = _balance(context, once["62"])
    if closing_currency != currency:
        raise StatementRejected(
            f"the {once['62'].name} is in {closing_currency}, the {once['60'].name} in {currency}",
            line=once["62"].line,
        )
    check_amount(closing, currency, line=once["62"].line)
    return ParsedStatement(
        format=FORMAT,
        statement_id=f"{reference}/{number}",
        account=compact(once["25"].value),
        currency=currency,
        opening_balance=opening,
        closing_balance=closing,
        opening_on=opening_on,
        closing_on=closing_on,
        lines=lines,
    )


def _arranged(
    block: list[_Field], reference: str
) -> tuple[dict[str, _Field], list[tuple[_Field, _Field | None]]]:
    """The statement's fields that come once (by :25:, :28C:, :60:, :62:), and each :61: with its :86:."""
    once: dict[str, _Field] = {}
    entries: list[tuple[_Field, _Field | None]] = []
    previous = block[0]
    for field in block[1:]:
        if field.tag == "61":
            if "60" not in once or "62" in once:
                where = "after the closing" if "62" in once else "before the opening"
                raise StatementRejected(f"the statement line (:61:) comes {where} balance", line=field.line)
            entries.append((field, None))
        elif field.tag == "86":
            if previous.tag == "61":
                entries[-1] = (entries[-1][0], field)
            # else it informs about the statement as a whole, not about an entry: not read
        elif field.tag in _ONCE:
            if _ONCE[field.tag] in once:
                raise StatementRejected(f"statement {reference} has a second {field.name}", line=field.line)
            once[_ONCE[field.tag]] = field
        elif field.tag not in _NOT_READ:
            raise StatementRejected(f":{field.tag}: is not a field of an MT940 statement", line=field.line)
        previous = field
    for key, name in _REQUIRED.items():
        if key not in once:
            raise StatementRejected(f"statement {reference} has no {name}", line=block[0].line)
    return once, entries


def _feed(context: Transactions, field: _Field) -> None:
    """Let the library read one field into `context`; its errors become a rejection with the line."""
    try:
        context.parse(f":{field.tag}:{field.value}")
    except ValueError as error:  # the date parts make no date
        raise StatementRejected(
            f"the {field.name} has a date that does not exist ({error})", line=field.line
        ) from None
    except (RuntimeError, ArithmeticError) as error:
        raise StatementRejected(f"the {field.name} cannot be read ({error})", line=field.line) from None


def _check_amount(amount: str, field: _Field) -> None:
    if not _AMOUNT.fullmatch(amount) or len(amount) > _AMOUNT_LENGTH:
        raise StatementRejected(
            f"the amount {amount!r} of the {field.name} is not a number: an MT940 amount is up to 15 digits "
            "with a decimal comma, like 1250,00",
            line=field.line,
        )


def _balance(context: Transactions, field: _Field) -> tuple[Decimal, date, str]:
    match = _BALANCE.fullmatch(field.value.strip())
    if not match:
        raise StatementRejected(
            f"the {field.name} {field.value.strip()!r} is not a balance: C or D, the date (YYMMDD), the "
            "currency and the amount, like C250131EUR1500,00",
            line=field.line,
        )
    _check_amount(match["amount"], field)
    _feed(context, field)
    balance = context.data[context.tags[field.tag].slug]
    return balance.amount.amount, _plain(balance.date), match["currency"]


def _statement_line(
    context: Transactions, field: _Field, details: _Field | None, currency: str
) -> StatementLine:
    """One :61: with its :86:. Its second line, the supplementary details, is not read."""
    if len(field.lines) > 2:
        raise StatementRejected(
            f"the statement line (:61:) goes on for {len(field.lines)} lines, but has at most two (the entry "
            f"and its supplementary details): is the tag on line {field.line + 2} misspelt?",
            line=field.line,
        )
    match = _STATEMENT_LINE.fullmatch(field.lines[0].strip())
    if not match:
        raise StatementRejected(
            f"the statement line (:61:) {field.lines[0].strip()!r} is not value date (YYMMDD), entry date "
            "(MMDD, optional), C, D, RC or RD, amount, transaction type (like NTRF) and references",
            line=field.line,
        )
    _check_amount(match["amount"], field)
    if match["funds_code"] and match["funds_code"] != currency[2]:
        raise StatementRejected(
            f"the statement line (:61:) has the funds code {match['funds_code']!r}, which is not the third "
            f"letter of the statement's currency {currency}",
            line=field.line,
        )
    _feed(context, field)
    data = context.transactions[-1].data
    owner_reference = match["owner_reference"].strip()
    if owner_reference.upper() == _NO_REFERENCE:
        owner_reference = ""
    bank_reference = (match["bank_reference"] or "").strip() or owner_reference
    if not bank_reference:
        raise StatementRejected(
            "the statement line (:61:) has no bank reference (after //) and its reference for the account "
            f"owner is {match['owner_reference'].strip()!r}: billops needs one to recognise the entry if the "
            "file is imported again",
            line=field.line,
        )
    details_read = _details(details)
    return StatementLine(
        line=field.line,
        booked_on=_plain(data.get("entry_date") or data["date"]),
        amount=data["amount"].amount,
        currency=currency,
        bank_reference=bank_reference,
        value_on=_plain(data["date"]),
        end_to_end_id=owner_reference,
        payer_name=details_read.payer_name,
        payer_account=details_read.payer_account,
        payer_bank=details_read.payer_bank,
        remittance=details_read.remittance,
        bank_code=match["type"],
    )


@dataclass(frozen=True, slots=True)
class _Details:
    remittance: str = ""
    payer_name: str = ""
    payer_account: str = ""
    payer_bank: str = ""


def _details(field: _Field | None) -> _Details:
    """An entry's :86:. In the German structured layout (a 3-digit GVC, then ?NN subfields) the purpose is
    ?20 to ?29 and ?60 to ?63, the payer's bank ?30, account ?31 and name ?32/?33; subfields are cut at any
    character, so they are joined without a space, except before a SEPA keyword such as SVWZ+. Any other
    :86: is the remittance, its lines joined by a space."""
    if field is None:
        return _Details()
    joined = "".join(field.lines)
    if not _STRUCTURED.match(joined):
        return _Details(remittance=clean_text(" ".join(field.lines)))
    parts = _SUBFIELD.split(joined)
    subfields: dict[str, str] = {}
    for code, value in zip(parts[1::2], parts[2::2], strict=True):
        subfields[code] = subfields.get(code, "") + value
    purpose = [subfields.get(code, "") for code in _PURPOSE]
    return _Details(
        remittance=clean_text("".join(f" {part}" if _SEPA_KEYWORD.match(part) else part for part in purpose)),
        payer_name=clean_text(subfields.get("32", "") + subfields.get("33", "")),
        payer_account=compact(subfields.get("31", "")),
        payer_bank=compact(subfields.get("30", "")),
    )


def _plain(day: date) -> date:
    return date(day.year, day.month, day.day)  # the library's Date subclass, as a date


def write_mt940(statements: Sequence[ParsedStatement]) -> bytes:
    """An MT940 file with one statement per ParsedStatement, each ended by a "-" line, which `parse_mt940`
    and the mt-940 library read back as the same statements.

    statement_id must be "<:20: reference>/<:28C: statement number>", as `parse_mt940` makes it. A line's
    remittance and payer go into a structured :86: (?20 to ?29, ?30 to ?33); its end_to_end_id is the account
    owner's reference (NONREF when empty); a bank_code that is not an MT940 transaction type is written as
    NTRF. Raises ValueError for what MT940 cannot carry."""
    rows: list[str] = []
    for statement in statements:
        rows += _statement_rows(statement)
    return "".join(f"{row}\r\n" for row in rows).encode("utf-8")


def _statement_rows(statement: ParsedStatement) -> list[str]:
    match = _STATEMENT_ID.fullmatch(statement.statement_id)
    if not match:
        raise ValueError(f"statement_id {statement.statement_id!r} is not '<reference>/<statement number>'")
    if statement.opening_balance is None or statement.closing_balance is None:
        raise ValueError(f"statement {statement.statement_id}: MT940 needs an opening and a closing balance")
    if statement.opening_on is None or statement.closing_on is None:
        raise ValueError(f"statement {statement.statement_id}: MT940 balances need their dates")
    rows = [
        f":20:{_swift(match['reference'], 16, 'statement reference')}",
        f":25:{_swift(statement.account, 35, 'account')}",
        f":28C:{match['number']}",
        f":60F:{_balance_text(statement.opening_balance, statement.opening_on, statement.currency)}",
    ]
    for line in statement.lines:
        rows += _line_rows(line, statement.currency)
    rows += [
        f":62F:{_balance_text(statement.closing_balance, statement.closing_on, statement.currency)}",
        "-",
    ]
    return rows


def _balance_text(amount: Decimal, on: date, currency: str) -> str:
    return f"{'D' if amount < 0 else 'C'}{yymmdd(on, years=_YEARS)}{currency}{_amount_text(amount, currency)}"


def _amount_text(amount: Decimal, currency: str) -> str:
    places = minor_units(currency)
    whole, fraction = divmod(abs(to_minor_units(amount, currency)), 10**places)
    text = f"{whole}," + (f"{fraction:0{places}d}" if places else "")
    if len(text) > _AMOUNT_LENGTH:
        raise ValueError(f"{amount} {currency} has more than 15 characters in MT940")
    return text


def _line_rows(line: StatementLine, currency: str) -> list[str]:
    if line.is_pending or line.currency != currency:
        raise ValueError(f"line {line.line}: MT940 has only booked entries in the statement's currency")
    value_on = line.value_on or line.booked_on
    if abs((line.booked_on - value_on).days) > _MAX_ENTRY_GAP_DAYS:
        raise ValueError(
            f"line {line.line}: booked more than {_MAX_ENTRY_GAP_DAYS} days from its value date; MT940's "
            "entry date has no year"
        )
    owner_reference = line.end_to_end_id or _NO_REFERENCE
    if "//" in owner_reference or line.end_to_end_id.upper() == _NO_REFERENCE:
        raise ValueError(f"line {line.line}: the reference {line.end_to_end_id!r} cannot be written to MT940")
    transaction_type = line.bank_code if _TRANSACTION_TYPE.fullmatch(line.bank_code) else _DEFAULT_TYPE
    rows = [
        f":61:{yymmdd(value_on, years=_YEARS)}{line.booked_on:%m%d}{'D' if line.amount < 0 else 'C'}"
        f"{_amount_text(line.amount, currency)}{transaction_type}"
        f"{_swift(owner_reference, 16, 'reference')}//{_swift(line.bank_reference, 16, 'bank reference')}"
    ]
    details = _details_text(line)
    if details:
        # the reader strips a line's trailing spaces, and a line starting with -, : or { is no text
        pieces = _cut(
            details, _SWIFT_LINE, lambda left, right: not left.endswith(" ") and right[0] not in "-:{"
        )
        rows += [f":86:{pieces[0]}", *pieces[1:]]
    return rows


def _details_text(line: StatementLine) -> str:
    remittance, name = clean_text(line.remittance), clean_text(line.payer_name)
    account, bank = compact(line.payer_account), compact(line.payer_bank)
    if not (remittance or name or account or bank):
        return ""
    if "?" in remittance + name + account + bank:
        raise ValueError(f"line {line.line}: '?' separates the subfields of a structured :86:")
    # the reader puts a space before a piece that starts with a SEPA keyword
    purpose = _cut(remittance, 27, lambda left, right: left.endswith(" ") or not _SEPA_KEYWORD.match(right))
    names = _cut(name, 27, lambda left, right: True)
    if len(purpose) > 10 or len(names) > 2:
        raise ValueError(f"line {line.line}: more remittance (270) or name (54 characters) than :86: holds")
    parts = [_GVC_CREDIT if line.amount >= 0 else _GVC_DEBIT]
    parts += [f"?2{n}{piece}" for n, piece in enumerate(purpose)]
    parts += [f"?30{bank}"] if bank else []
    parts += [f"?31{account}"] if account else []
    parts += [f"?3{2 + n}{piece}" for n, piece in enumerate(names)]
    return "".join(parts)


def _cut(text: str, width: int, breakable: Callable[[str, str], bool]) -> list[str]:
    """`text` in pieces of at most `width` characters, cut only where `breakable(left, right)`."""
    pieces = []
    while len(text) > width:
        cut = next((at for at in range(width, 0, -1) if breakable(text[:at], text[at:])), None)
        if cut is None:
            raise ValueError(f"{text!r} cannot be cut into pieces of {width} characters")
        pieces.append(text[:cut])
        text = text[cut:]
    return [*pieces, text] if text else pieces


def _swift(value: str, length: int, what: str) -> str:
    if not value or len(value) > length or "\n" in value:
        raise ValueError(f"the {what} {value!r} must be 1 to {length} characters on one line")
    return value
