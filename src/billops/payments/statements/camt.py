"""ISO 20022 camt.053 (bank-to-customer statement) and camt.054 (debit/credit notification): read into
`ParsedStatement`s, and write camt.053.001.08 for the tests, the demo and the benchmark.

Elements are matched by their local name, without the namespace, so every version from 001.02 to 001.13
reads alike; where versions differ (Sts as text or as Cd, Dbtr/Nm or Dbtr/Pty/Nm, BIC or BICFI,
TtlNetNtryAmt or TtlNetNtry/Amt) both forms are read. Entries are numbered 1, 2, … in the order they
appear in the file, across statements; that number is the `line` of every message about an entry.

A line's payer_* fields are the other party: the debtor of money in (CRDT), the creditor of money out
(DBIT); the party on our side of the entry is the account holder, and is not read.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

import defusedxml.ElementTree as defused_tree  # type: ignore[import-untyped]
from defusedxml import DefusedXmlException

from billops.payments.statements.parsed import (
    ParsedStatement,
    StatementLine,
    StatementRejected,
    check_amount,
    check_statement,
    compact,
)

# the element under <Document> → (the format, the element of one statement)
MESSAGES = {"BkToCstmrStmt": ("camt.053", "Stmt"), "BkToCstmrDbtCdtNtfctn": ("camt.054", "Ntfctn")}
DOCTYPE_REFUSED = (
    "the file declares a DOCTYPE/entities; bank statements never do, so it is refused without being read"
)
NOT_PROVIDED = "NOTPROVIDED"  # what banks write where a reference is mandatory but unknown
# xs:decimal without a sign: camt carries the direction in CdtDbtInd, never in the amount
_DECIMAL = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)\Z", re.ASCII)
_ISO_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:Z|[+-]\d{2}:\d{2})?\Z", re.ASCII)  # xs:date may carry a zone
_MESSAGE_NAME = re.compile(r"[a-z]{4}\.\d{3}")  # camt.053, pain.001…
_DOMAIN_CODE = re.compile(r"([A-Z0-9]{1,4})/([A-Z0-9]{1,4})/([A-Z0-9]{1,4})\Z")
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}\Z")
_BIC = re.compile(r"[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?\Z")
_USTRD_LENGTH = 140  # Max140Text
# Sts (EntryStatus2Code, later ExternalEntryStatus1Code) → is_pending: only BOOK is on the account; PDNG
# may be booked later, INFO is for information and may never be, FUTR reaches the account later
ENTRY_STATUSES = {"BOOK": False, "PDNG": True, "INFO": True, "FUTR": True}


def parse_camt(data: bytes) -> list[ParsedStatement]:
    """Read a camt.053 or camt.054 file into one statement per <Stmt> or <Ntfctn>; the first problem
    refuses the whole file (StatementRejected), so nothing of a doubtful file is ever posted.

    The XML is read as a stream (defusedxml, which stops at a DOCTYPE before any entity is expanded or
    file opened) and each entry is dropped once read, so a statement of 80 000 entries never sits in
    memory as a tree."""
    if not data or data.isspace():
        raise StatementRejected("the file is empty")
    statements: list[ParsedStatement] = []
    entries: list[StatementLine] = []
    kind = item = namespace = ""
    depth = 0  # Document 1, BkToCstmrStmt 2, Stmt 3, Ntry 4
    line = 0  # entries so far, counted through the file
    events = defused_tree.iterparse(
        io.BytesIO(data), ("start", "end"), forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    try:
        for event, element in events:
            namespace_part, _, name = element.tag.rpartition("}")
            if event == "start":
                depth += 1
                if depth == 1:
                    namespace = namespace_part[1:]
                    if name != "Document":
                        raise _not_camt(namespace, f"an XML file whose root is <{name}>")
                elif depth == 2:
                    kind, item = _message(name, namespace)
                continue
            # children end before their parent: every element below is already stripped of its namespace
            element.tag = name
            if depth == 4 and name == "Ntry":
                line += 1
                entries.append(_read_entry(element, line=line))
                element.clear()
            elif depth == 3 and name == item:
                statements.append(_read_statement(element, entries, kind=kind, number=len(statements) + 1))
                entries = []
                element.clear()
            depth -= 1
    except DefusedXmlException:
        raise StatementRejected(DOCTYPE_REFUSED) from None
    except ParseError as error:
        raise StatementRejected(
            f"the file is not XML ({error}); a camt.053 or camt.054 file is an ISO 20022 XML document"
        ) from None
    if not kind:
        raise _not_camt(namespace, "an empty <Document>")
    if not statements:
        raise StatementRejected(f"the {kind} file holds no <{item}>: there is nothing to import")
    return statements


def _message(name: str, namespace: str) -> tuple[str, str]:
    """The format of the message element under <Document>, and the name of one statement in it."""
    declared = _MESSAGE_NAME.search(namespace)
    if name not in MESSAGES:
        raise _not_camt(namespace, f"an XML document holding <{name}>")
    kind, item = MESSAGES[name]
    if declared and declared.group() != kind:
        raise StatementRejected(
            f"the document's namespace {namespace} is {declared.group()}, but it holds a {kind} <{name}>"
        )
    return kind, item


def _not_camt(namespace: str, found: str) -> StatementRejected:
    declared = _MESSAGE_NAME.search(namespace)
    return StatementRejected(
        f"the file is {f'a {declared.group()} document' if declared else found}, not a camt.053 statement "
        "(<BkToCstmrStmt>) or a camt.054 notification (<BkToCstmrDbtCdtNtfctn>) inside <Document>"
    )


@dataclass(frozen=True, slots=True)
class _Balance:
    amount: Decimal  # signed: less than 0 is an overdrawn account (CdtDbtInd DBIT)
    currency: str
    on: date | None


def _read_statement(
    element: Element, lines: list[StatementLine], *, kind: str, number: int
) -> ParsedStatement:
    """The statement around its entries, which are read already (as they streamed past)."""
    statement_id = _text(element, "Id")
    if not statement_id:
        raise StatementRejected(f"statement {number} of the file has no <Id>")
    account = compact(_text(element, "Acct", "Id", "IBAN") or _text(element, "Acct", "Id", "Othr", "Id"))
    if not account:
        raise StatementRejected(
            f"statement {statement_id} names no account (Acct/Id/IBAN or Acct/Id/Othr/Id)"
        )
    opening = closing = None
    if kind == "camt.053":  # a camt.054 notification has no balances
        opening, closing = _read_balances(element, statement_id)
    currency = (
        _text(element, "Acct", "Ccy")
        or (opening.currency if opening else "")
        or (lines[0].currency if lines else "")
    )
    if not currency:
        raise StatementRejected(f"statement {statement_id} names no currency (Acct/Ccy)")
    for name, balance in (("opening", opening), ("closing", closing)):
        if balance and balance.currency != currency:
            raise StatementRejected(
                f"statement {statement_id}: the {name} balance is in {balance.currency}, "
                f"the account {account} in {currency}"
            )
    statement = ParsedStatement(
        format=kind,
        statement_id=statement_id,
        account=account,
        currency=currency,
        opening_balance=opening.amount if opening else None,
        closing_balance=closing.amount if closing else None,
        opening_on=opening.on if opening else None,
        closing_on=closing.on if closing else None,
        lines=lines,
    )
    # the entries' own faults first: they name the entry, where a wrong total can only name the statement
    check_statement(statement)
    _check_summary(element.find("TxsSummry"), statement)
    for name, balance in (("opening", opening), ("closing", closing)):
        try:
            if balance:
                check_amount(balance.amount, currency, line=None)
        except StatementRejected as error:
            raise StatementRejected(
                f"statement {statement_id}: the {name} balance: {error.message}"
            ) from None
    return statement


def _read_balances(element: Element, statement_id: str) -> tuple[_Balance, _Balance]:
    """The opening (OPBD, else PRCD: the previous statement's closing) and closing (CLBD) balances."""
    balances: dict[str, _Balance] = {}
    for balance in element.iterfind("Bal"):
        code = _text(balance, "Tp", "CdOrPrtry", "Cd")
        if code in ("OPBD", "PRCD", "CLBD") and code not in balances:
            what = f"statement {statement_id}: the balance {code}"
            amount, currency = _amount(balance, what=what, line=None)
            balances[code] = _Balance(
                _signed(amount, _text(balance, "CdtDbtInd"), what=what, line=None),
                currency,
                _date(balance, "Dt", what=f"{what} date (Dt)", line=None),
            )
    opening = balances.get("OPBD") or balances.get("PRCD")
    closing = balances.get("CLBD")
    if opening is None or closing is None:
        missing = "opening balance (Bal OPBD or PRCD)" if opening is None else "closing balance (Bal CLBD)"
        raise StatementRejected(
            f"statement {statement_id} has no {missing}; without it the statement cannot be checked"
        )
    return opening, closing


def _read_entry(entry: Element, *, line: int) -> StatementLine:
    amount, currency = _amount(entry, what="the entry", line=line)
    direction = _text(entry, "CdtDbtInd")
    amount = _signed(amount, direction, what="the entry", line=line)
    is_pending = _is_pending(entry, line=line)
    booked_on = _date(entry, "BookgDt", what="the entry's booking date (BookgDt)", line=line)
    value_on = _date(entry, "ValDt", what="the entry's value date (ValDt)", line=line)
    booked_on = booked_on or value_on  # a pending entry may not be booked on any day yet
    if booked_on is None:
        raise StatementRejected(
            "the entry has neither a booking date (BookgDt) nor a value date (ValDt)", line=line
        )
    bank_reference = _reference(entry, "AcctSvcrRef") or _reference(entry, "NtryRef")
    if not bank_reference:
        raise StatementRejected(
            "the entry has no bank reference: neither <AcctSvcrRef> nor <NtryRef> is given", line=line
        )
    transactions = [tx for details in entry.iterfind("NtryDtls") for tx in details.iterfind("TxDtls")]
    first = transactions[0] if transactions else None
    parties = first.find("RltdPties") if first is not None else None
    other = "Cdtr" if direction == "DBIT" else "Dbtr"  # money out goes to the creditor
    agent = _find(first, "RltdAgts", f"{other}Agt", "FinInstnId")
    return StatementLine(
        line=line,
        booked_on=booked_on,
        amount=amount,
        currency=currency,
        bank_reference=bank_reference,
        value_on=value_on,
        end_to_end_id=_reference(_find(first, "Refs"), "EndToEndId"),
        payer_name=_text(parties, other, "Nm") or _text(parties, other, "Pty", "Nm"),
        payer_account=compact(
            _text(parties, f"{other}Acct", "Id", "IBAN") or _text(parties, f"{other}Acct", "Id", "Othr", "Id")
        ),
        payer_bank=_text(agent, "BICFI") or _text(agent, "BIC") or _text(agent, "ClrSysMmbId", "MmbId"),
        # a batch booking names each of its invoices in its own TxDtls
        remittance=" ".join(
            text
            for tx in transactions
            for ustrd in tx.iterfind("RmtInf/Ustrd")
            if (text := (ustrd.text or "").strip())
        ),
        creditor_reference=next(
            (text for ref in _iterfind(first, "RmtInf/Strd/CdtrRefInf/Ref") if (text := _text(ref))), ""
        ),
        bank_code=_bank_code(entry.find("BkTxCd")),
        is_pending=is_pending,
    )


def _is_pending(entry: Element, *, line: int) -> bool:
    """Whether the entry is not (yet) booked, by its Sts: the code as text, in Cd or in Prtry. A code not in
    ENTRY_STATUSES is refused; an entry without one (every version requires it) is read as booked."""
    status = _text(entry, "Sts") or _text(entry, "Sts", "Cd") or _text(entry, "Sts", "Prtry")
    if status and status not in ENTRY_STATUSES:
        raise StatementRejected(
            f"the entry's status (Sts) is {status!r}; it must be BOOK, PDNG, INFO or FUTR", line=line
        )
    return ENTRY_STATUSES.get(status, False)


def _check_summary(summary: Element | None, statement: ParsedStatement) -> None:
    """TxsSummry is the bank's own count and total of the statement's entries (pending ones included):
    a difference means entries were lost or altered on the way."""
    if summary is None:
        return
    amounts = [line.amount for line in statement.lines]
    groups = {
        "TtlNtries": amounts,
        "TtlCdtNtries": [amount for amount in amounts if not amount.is_signed()],
        "TtlDbtNtries": [amount for amount in amounts if amount.is_signed()],
    }
    for name, members in groups.items():
        group = summary.find(name)
        if group is not None:
            _check_group(
                group, members, where=f"statement {statement.statement_id}: the summary TxsSummry/{name}"
            )
    totals = summary.find("TtlNtries")
    net = _find(totals, "TtlNetNtry")
    # version 02 has TtlNetNtryAmt and its CdtDbtInd right in TtlNtries
    holder, amount_name = (net, "Amt") if net is not None else (totals, "TtlNetNtryAmt")
    where = f"statement {statement.statement_id}: the summary's net total (TxsSummry/TtlNtries/TtlNetNtry)"
    stated = _decimal(_text(holder, amount_name), what=where, line=None)
    if stated is None:
        return
    signed = _signed(stated, _text(holder, "CdtDbtInd"), what=where, line=None)
    actual = sum(amounts, Decimal(0))
    if signed != actual:
        raise StatementRejected(
            f"{where} is {signed}, but the entries' credits less debits make {actual} "
            f"(a difference of {signed - actual})"
        )


def _check_group(group: Element, members: list[Decimal], *, where: str) -> None:
    count = _text(group, "NbOfNtries")
    if count and not (count.isascii() and count.isdigit()):
        raise StatementRejected(f"{where}/NbOfNtries {count!r} is not a number of entries")
    if count and int(count) != len(members):
        raise StatementRejected(
            f"{where}/NbOfNtries counts {count} entries, but the statement has {len(members)} "
            f"(a difference of {int(count) - len(members)})"
        )
    stated = _decimal(_text(group, "Sum"), what=f"{where}/Sum", line=None)
    total = sum((abs(amount) for amount in members), Decimal(0))
    if stated is not None and stated != total:
        raise StatementRejected(
            f"{where}/Sum gives a total of {stated}, but the entries add up to {total} "
            f"(a difference of {stated - total})"
        )


def _amount(element: Element, *, what: str, line: int | None) -> tuple[Decimal, str]:
    """The positive amount of <Amt> and its Ccy attribute."""
    amount_element = element.find("Amt")
    if amount_element is None:
        raise StatementRejected(f"{what} has no amount (Amt)", line=line)
    currency = (amount_element.get("Ccy") or "").strip()
    if not currency:
        raise StatementRejected(f"{what}'s amount (Amt) has no currency (the Ccy attribute)", line=line)
    amount = _decimal((amount_element.text or "").strip(), what=f"{what}'s amount (Amt)", line=line)
    if amount is None:
        raise StatementRejected(f"{what}'s amount (Amt) is empty", line=line)
    return amount, currency


def _decimal(text: str, *, what: str, line: int | None) -> Decimal | None:
    if not text:
        return None
    if text.startswith("-"):
        raise StatementRejected(
            f"{what} is {text}: the amount must be positive; CdtDbtInd gives the direction", line=line
        )
    if not _DECIMAL.match(text):
        raise StatementRejected(f"{what} {text!r} is not an amount (digits and a decimal point)", line=line)
    return Decimal(text)


def _signed(amount: Decimal, direction: str, *, what: str, line: int | None) -> Decimal:
    if direction == "CRDT":
        return amount
    if direction == "DBIT":
        return -amount
    shown = f"is {direction!r}" if direction else "is missing"
    raise StatementRejected(f"{what}'s direction (CdtDbtInd) {shown}; it must be CRDT or DBIT", line=line)


def _date(element: Element, name: str, *, what: str, line: int | None) -> date | None:
    """Dt, or the date of a DtTm as the bank wrote it (its local date, not converted)."""
    day, moment = _text(element, name, "Dt"), _text(element, name, "DtTm")
    if not day and not moment:
        return None
    found = _ISO_DATE.match(day)
    try:
        if found:
            return date.fromisoformat(found[1])
        if not day:
            return datetime.fromisoformat(moment).date()
    except ValueError:
        pass  # refused below, like a date of the wrong shape
    raise StatementRejected(f"{what} {day or moment!r} is not a date (YYYY-MM-DD)", line=line)


def _bank_code(code: Element | None) -> str:
    """Domain/family/sub-family (PMNT/RCDT/ESCT), else the bank's proprietary code."""
    domain = _find(code, "Domn")
    if domain is not None:
        parts = (_text(domain, "Cd"), _text(domain, "Fmly", "Cd"), _text(domain, "Fmly", "SubFmlyCd"))
        return "/".join(part for part in parts if part)
    return _text(code, "Prtry", "Cd")


def _reference(element: Element | None, name: str) -> str:
    text = _text(element, name)
    return "" if text == NOT_PROVIDED else text


def _find(element: Element | None, *path: str) -> Element | None:
    """The element at path below element, None when any step is missing (simple names stay in C)."""
    for name in path:
        if element is None:
            return None
        element = element.find(name)
    return element


def _iterfind(element: Element | None, path: str) -> Iterator[Element]:
    return iter(()) if element is None else element.iterfind(path)


def _text(element: Element | None, *path: str) -> str:
    """The stripped text at path, '' when the element or its text is missing."""
    found = _find(element, *path)
    return (found.text or "").strip() if found is not None else ""


def write_camt053(statements: Sequence[ParsedStatement]) -> bytes:
    """A camt.053.001.08 document that `parse_camt` reads back as these statements, entries numbered in
    order. Built by joining strings, not a DOM, because the benchmark writes 80 000 entries. Every
    statement needs both balances and their dates (camt.053 requires them)."""
    if not statements:
        raise ValueError("a camt.053 file holds at least one statement")
    first = statements[0]
    created_on = _balances(first)[3]  # the file is as of the first statement's closing day
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">\n<BkToCstmrStmt>\n'
        f"<GrpHdr><MsgId>{escape(('BILLOPS-' + first.statement_id)[:35])}</MsgId>"
        f"<CreDtTm>{created_on.isoformat()}T00:00:00</CreDtTm></GrpHdr>\n"
    ]
    for statement in statements:
        parts.extend(_statement_xml(statement))
    parts.append("</BkToCstmrStmt>\n</Document>\n")
    return "".join(parts).encode()


def _balances(statement: ParsedStatement) -> tuple[Decimal, Decimal, date, date]:
    """Opening, closing and their dates, which camt.053 requires."""
    opening, closing = statement.opening_balance, statement.closing_balance
    opening_on, closing_on = statement.opening_on, statement.closing_on
    if opening is None or closing is None or opening_on is None or closing_on is None:
        raise ValueError(f"statement {statement.statement_id} needs both balances and their dates")
    return opening, closing, opening_on, closing_on


def _statement_xml(statement: ParsedStatement) -> Iterator[str]:
    opening, closing, opening_on, closing_on = _balances(statement)
    amounts = [line.amount for line in statement.lines]
    credits = [amount for amount in amounts if not amount.is_signed()]
    debits = [-amount for amount in amounts if amount.is_signed()]
    net = sum(credits, Decimal(0)) - sum(debits, Decimal(0))
    yield (
        f"<Stmt><Id>{escape(statement.statement_id)}</Id>"
        f"<Acct><Id>{_account_xml(statement.account)}</Id><Ccy>{statement.currency}</Ccy></Acct>\n"
        f"{_balance_xml('OPBD', opening, statement.currency, opening_on)}"
        f"{_balance_xml('CLBD', closing, statement.currency, closing_on)}"
        f"<TxsSummry><TtlNtries><NbOfNtries>{len(amounts)}</NbOfNtries>"
        f"<Sum>{sum(credits, Decimal(0)) + sum(debits, Decimal(0)):f}</Sum>"
        f"<TtlNetNtry><Amt>{abs(net):f}</Amt><CdtDbtInd>{'DBIT' if net < 0 else 'CRDT'}</CdtDbtInd>"
        f"</TtlNetNtry></TtlNtries>"
        f"<TtlCdtNtries><NbOfNtries>{len(credits)}</NbOfNtries><Sum>{sum(credits, Decimal(0)):f}</Sum>"
        f"</TtlCdtNtries><TtlDbtNtries><NbOfNtries>{len(debits)}</NbOfNtries>"
        f"<Sum>{sum(debits, Decimal(0)):f}</Sum></TtlDbtNtries></TxsSummry>\n"
    )
    for line in statement.lines:
        yield _entry_xml(line)
    yield "</Stmt>\n"


def _balance_xml(code: str, amount: Decimal, currency: str, on: date) -> str:
    return (
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
        f'<Amt Ccy="{currency}">{abs(amount):f}</Amt>'
        f"<CdtDbtInd>{'DBIT' if amount < 0 else 'CRDT'}</CdtDbtInd>"
        f"<Dt><Dt>{on.isoformat()}</Dt></Dt></Bal>\n"
    )


def _entry_xml(line: StatementLine) -> str:
    parts = [
        f'<Ntry><Amt Ccy="{escape(line.currency)}">{abs(line.amount):f}</Amt>'
        f"<CdtDbtInd>{'DBIT' if line.amount.is_signed() else 'CRDT'}</CdtDbtInd>"
        f"<Sts><Cd>{'PDNG' if line.is_pending else 'BOOK'}</Cd></Sts>"
        f"<BookgDt><Dt>{line.booked_on.isoformat()}</Dt></BookgDt>"
    ]
    if line.value_on:
        parts.append(f"<ValDt><Dt>{line.value_on.isoformat()}</Dt></ValDt>")
    parts.append(f"<AcctSvcrRef>{escape(line.bank_reference)}</AcctSvcrRef>{_bank_code_xml(line.bank_code)}")
    details = (line.end_to_end_id, line.payer_name, line.payer_account, line.payer_bank)
    if not any(details) and not line.remittance and not line.creditor_reference:
        parts.append("</Ntry>\n")
        return "".join(parts)
    parts.append("<NtryDtls><TxDtls>")
    if line.end_to_end_id:
        parts.append(f"<Refs><EndToEndId>{escape(line.end_to_end_id)}</EndToEndId></Refs>")
    other = "Cdtr" if line.amount.is_signed() else "Dbtr"  # the other party, as the reader takes it
    if line.payer_name or line.payer_account:
        parts.append("<RltdPties>")
        if line.payer_name:
            parts.append(f"<{other}><Pty><Nm>{escape(line.payer_name)}</Nm></Pty></{other}>")
        if line.payer_account:
            parts.append(f"<{other}Acct><Id>{_account_xml(line.payer_account)}</Id></{other}Acct>")
        parts.append("</RltdPties>")
    if line.payer_bank:
        bank = escape(line.payer_bank)
        agent = (
            f"<BICFI>{bank}</BICFI>"
            if _BIC.match(line.payer_bank)
            else f"<ClrSysMmbId><MmbId>{bank}</MmbId></ClrSysMmbId>"
        )
        parts.append(f"<RltdAgts><{other}Agt><FinInstnId>{agent}</FinInstnId></{other}Agt></RltdAgts>")
    if line.remittance or line.creditor_reference:
        parts.append("<RmtInf>")
        parts.extend(f"<Ustrd>{escape(text)}</Ustrd>" for text in _ustrd_lines(line.remittance))
        if line.creditor_reference:
            parts.append(
                "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>ISO</Issr></Tp>"
                f"<Ref>{escape(line.creditor_reference)}</Ref></CdtrRefInf></Strd>"
            )
        parts.append("</RmtInf>")
    parts.append("</TxDtls></NtryDtls></Ntry>\n")
    return "".join(parts)


def _account_xml(account: str) -> str:
    if _IBAN.match(account):
        return f"<IBAN>{account}</IBAN>"
    return f"<Othr><Id>{escape(account)}</Id></Othr>"


def _bank_code_xml(code: str) -> str:
    domain = _DOMAIN_CODE.match(code)
    if domain:
        family = f"<Fmly><Cd>{domain[2]}</Cd><SubFmlyCd>{domain[3]}</SubFmlyCd></Fmly>"
        return f"<BkTxCd><Domn><Cd>{domain[1]}</Cd>{family}</Domn></BkTxCd>"
    if code:
        return f"<BkTxCd><Prtry><Cd>{escape(code)}</Cd></Prtry></BkTxCd>"
    return "<BkTxCd/>"


def _ustrd_lines(text: str) -> list[str]:
    """Ustrd holds 140 characters: a longer text is cut at a space, which the reader's join puts back
    (a single word over 140 characters is cut inside and comes back with a space in it)."""
    lines = []
    while len(text) > _USTRD_LENGTH:
        cut = text.rfind(" ", 1, _USTRD_LENGTH + 1)
        if cut <= 0:
            lines.append(text[:_USTRD_LENGTH])
            text = text[_USTRD_LENGTH:]
        else:
            lines.append(text[:cut])
            text = text[cut + 1 :]
    if text:
        lines.append(text)
    return lines
