"""OFX bank statements, OFX 1.x (SGML) and OFX 2.x (XML): `parse_ofx` reads one `ParsedStatement` per
<STMTRS>, `write_ofx` writes OFX 2.2 that `parse_ofx` reads back. docs/formats/ofx.md describes it for
people.

ofxtools is not used to read: it takes `120,00` as 120.00 where billops refuses an amount it would have
to guess, it moves every date to UTC (a payment booked at 23:30 in New York would land on the next day),
it keeps no line numbers for messages, and it reads XML with regular expressions. Here OFX 2 goes
through defusedxml with any document type declaration refused, so no external entity is ever opened and
no entity bomb expanded; OFX 1 goes through a small tokenizer that knows SGML's unclosed leaf tags and
has no entities to expand.

OFX carries a closing balance (LEDGERBAL) but no opening balance, so `opening_balance` stays None and
the balance check of `check_statement` cannot run: every line's own checks are what protect the import.
"""

from __future__ import annotations

import bisect
import re
import xml.sax
import xml.sax.handler
import xml.sax.xmlreader
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from xml.etree import ElementTree as ET  # writing only: it builds text and parses nothing

import defusedxml.sax  # type: ignore[import-untyped]

from billops.payments.statements.parsed import (
    ParsedStatement,
    StatementLine,
    StatementRejected,
    check_statement,
    compact,
)

_BOM = b"\xef\xbb\xbf"
# OFX 1 header CHARSET (with ENCODING:USASCII) → Python codec; ENCODING:UTF-8 or UNICODE means UTF-8
_CHARSETS = {"1252": "cp1252", "ISO-8859-1": "latin-1", "NONE": "utf-8"}
_HEADER_FIELD = re.compile(r"([A-Z]+):[ \t]*([^\s<]*)")
_TAG = re.compile(r"<(/?)([^<>]*)>")
_TAG_NAME = re.compile(r"[A-Za-z0-9._]+")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
# YYYYMMDD, optionally HHMM[SS[.XXX]] and a [gmt offset:tz name]; only the day is kept (see _date)
_OFX_DATE = re.compile(
    r"(\d{4})(\d{2})(\d{2})(?:(?:[01]\d|2[0-3])[0-5]\d(?:[0-5]\d(?:\.\d{1,3})?)?)?"
    r"(?:\[[+-]?\d{1,2}(?:\.\d{1,2})?(?::[^\]]*)?\])?"
)
_PERIOD = re.compile(r"(\d{4}-\d{2}-\d{2})/(\d{4}-\d{2}-\d{2})")
_NOT_IN_XML = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff\ud800-\udfff]")
_DOCTYPE_REFUSED = (
    "the file contains a document type declaration (<!DOCTYPE …>), which OFX files never have; "
    "billops refuses it because it can make a reader open other files or expand text without end"
)


@dataclass
class _Element:
    """An OFX element as read from either syntax: an aggregate holds children, a leaf holds text."""

    tag: str
    line: int  # where its start tag is
    text: str = ""
    children: list[_Element] = field(default_factory=list)

    def iter(self) -> Iterator[_Element]:
        for child in self.children:
            yield child
            yield from child.iter()


def parse_ofx(data: bytes) -> list[ParsedStatement]:
    """Read an OFX 1.x or 2.x file into one statement per <STMTRS>, each checked by `check_statement`;
    anything wrong rejects the whole file with the line at fault."""
    start = data[len(_BOM) :] if data.startswith(_BOM) else data
    start = start.lstrip()
    if not start:
        raise StatementRejected("the file is empty")
    if start.startswith(b"OFXHEADER"):
        root = _read_sgml(data)
    elif start.startswith((b"<?xml", b"<?OFX")):
        root = _read_xml(data)
    else:
        raise StatementRejected(
            "this is not an OFX file: it starts with neither an OFX 1 header (OFXHEADER:100) "
            'nor an OFX 2 XML declaration (<?xml version="1.0"?>)'
        )
    if [child.tag for child in root.children] != ["OFX"]:
        raise StatementRejected("the file's content is not one <OFX> element")
    found = [element for element in root.iter() if element.tag == "STMTRS"]
    if not found:
        raise StatementRejected("the file holds no bank statement: there is no <STMTRS> in it")
    statements = [_statement(stmtrs) for stmtrs in found]
    for statement in statements:
        check_statement(statement)
    return statements


def _read_sgml(data: bytes) -> _Element:
    """OFX 1: a KEY:VALUE header, then tags where a leaf's end tag is optional and an aggregate's is not."""
    body_at = data.find(b"<")
    header = dict(_HEADER_FIELD.findall(data[: body_at if body_at >= 0 else len(data)].decode("latin-1")))
    if header.get("OFXHEADER") != "100" or header.get("DATA") != "OFXSGML":
        raise StatementRejected("the OFX 1 header must say OFXHEADER:100 and DATA:OFXSGML", line=1)
    if header.get("ENCODING") in ("UTF-8", "UNICODE"):
        codec = "utf-8"
    elif header.get("CHARSET", "NONE") in _CHARSETS:
        codec = _CHARSETS[header.get("CHARSET", "NONE")]
    else:
        raise StatementRejected(
            f"the OFX header's CHARSET {header['CHARSET']} is not one billops reads "
            "(1252, ISO-8859-1 or NONE)"
        )
    try:
        text = data.decode(codec).removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        raise StatementRejected(
            f"the file is not {codec.upper()} text as its header says (byte 0x{data[error.start]:02X})",
            line=data.count(b"\n", 0, error.start) + 1,
        ) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "<" not in text:
        raise StatementRejected("the file has an OFX header but no <OFX> element after it")
    newlines = [match.start() for match in re.finditer("\n", text)]

    def line_at(position: int) -> int:
        return bisect.bisect_right(newlines, position) + 1

    body = text.find("<")
    tags = list(_TAG.finditer(text, body))
    if not tags or tags[0].start() != body:
        raise StatementRejected("a '<' starts no element", line=line_at(body))
    root = _Element("", 0)
    open_elements = [root]
    last_leaf: _Element | None = None  # a leaf whose optional end tag may come next
    for index, tag in enumerate(tags):
        line = line_at(tag.start())
        is_end, name = tag[1] == "/", tag[2]
        following = text[tag.end() : tags[index + 1].start() if index + 1 < len(tags) else len(text)].strip()
        if not _TAG_NAME.fullmatch(name):
            raise StatementRejected(
                f"'{tag[0][:40]}' is not an OFX element; an OFX 1 file holds elements only", line=line
            )
        if "<" in following:
            raise StatementRejected(f"a '<' after <{tag[0][1:-1]}> starts no element", line=line)
        if is_end:
            if following:
                raise StatementRejected(
                    f"the text {following[:40]!r} after </{name}> is in no element", line=line
                )
            if last_leaf is not None and last_leaf.tag == name:
                last_leaf = None
                continue
            still_open = open_elements[-1]
            if still_open.tag != name:
                raise StatementRejected(
                    f"</{name}> closes nothing open here"
                    + (f": <{still_open.tag}> from line {still_open.line} is open" if still_open.tag else ""),
                    line=line,
                )
            open_elements.pop()
            last_leaf = None
            continue
        element = _Element(name, line, text=_unescape(following))
        open_elements[-1].children.append(element)
        last_leaf = element if following else None
        if not following:
            open_elements.append(element)
    if len(open_elements) > 1:
        raise StatementRejected(
            f"the file ends inside <{open_elements[-1].tag}>; it may be cut off", line=open_elements[-1].line
        )
    return root


def _unescape(text: str) -> str:
    """OFX 1 escapes only these three; any other `&` is literal text (there is no entity to expand)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


class _XmlTree(xml.sax.handler.ContentHandler):
    """Collects the elements of an OFX 2 file with the line each starts on."""

    def __init__(self) -> None:
        super().__init__()
        self.root = _Element("", 0)
        self._open = [self.root]
        self._text: list[str] = []
        self._locator: xml.sax.xmlreader.Locator | None = None

    def setDocumentLocator(self, locator: xml.sax.xmlreader.Locator) -> None:  # SAX's names
        self._locator = locator

    def startElement(self, name: str, attrs: xml.sax.xmlreader.AttributesImpl) -> None:
        element = _Element(name, (self._locator.getLineNumber() or 0) if self._locator else 0)
        self._open[-1].children.append(element)
        self._open.append(element)
        self._text = []

    def characters(self, content: str) -> None:
        self._text.append(content)

    def endElement(self, name: str) -> None:
        element = self._open.pop()
        if not element.children:
            element.text = "".join(self._text).strip()
        self._text = []


def _read_xml(data: bytes) -> _Element:
    tree = _XmlTree()
    try:
        defusedxml.sax.parseString(data, tree, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException:
        at = data.find(b"<!DOCTYPE")
        raise StatementRejected(
            _DOCTYPE_REFUSED, line=data.count(b"\n", 0, at) + 1 if at >= 0 else None
        ) from None
    except xml.sax.SAXParseException as error:
        raise StatementRejected(
            f"the file is not well-formed XML: {error.getMessage()}", line=error.getLineNumber()
        ) from None
    return tree.root


def _statement(stmtrs: _Element) -> ParsedStatement:
    currency = _leaf(stmtrs, "CURDEF", "the account's currency").upper()
    account = compact(
        _leaf(_aggregate(stmtrs, "BANKACCTFROM", "the account"), "ACCTID", "the account number")
    )
    transactions = _aggregate(stmtrs, "BANKTRANLIST", "the list of transactions")
    period = (
        _date(_leaf(transactions, "DTSTART", "the statement's first day"), "DTSTART", line=transactions.line),
        _date(_leaf(transactions, "DTEND", "the statement's last day"), "DTEND", line=transactions.line),
    )
    ledger = _aggregate(stmtrs, "LEDGERBAL", "the closing balance")
    return ParsedStatement(
        format="ofx",
        statement_id=f"{period[0].isoformat()}/{period[1].isoformat()}",
        account=account,
        currency=currency,
        opening_balance=None,  # OFX has none; see the module docstring
        closing_balance=_amount(_leaf(ledger, "BALAMT", "the balance"), "BALAMT", line=ledger.line),
        closing_on=_date(_leaf(ledger, "DTASOF", "the balance's date"), "DTASOF", line=ledger.line),
        lines=[_line(trn, currency) for trn in transactions.children if trn.tag == "STMTTRN"],
    )


def _line(trn: _Element, currency: str) -> StatementLine:
    """One <STMTTRN>; every problem in it names the line of its <STMTTRN>."""
    # CURRENCY: the amount is in CURSYM. ORIGCURRENCY: the bank converted it, the amount is in CURDEF.
    foreign = _child(trn, "CURRENCY")
    payee = _child(trn, "PAYEE")
    available = _leaf(trn, "DTAVAIL")
    return StatementLine(
        line=trn.line,
        booked_on=_date(_leaf(trn, "DTPOSTED", "the booking date"), "DTPOSTED", line=trn.line),
        value_on=_date(available, "DTAVAIL", line=trn.line) if available else None,
        amount=_amount(_leaf(trn, "TRNAMT", "the amount"), "TRNAMT", line=trn.line),
        currency=_leaf(foreign, "CURSYM", "the currency").upper() if foreign else currency,
        bank_reference=_leaf(trn, "FITID", "the bank's reference of the transaction"),
        end_to_end_id=_leaf(trn, "CHECKNUM") or _leaf(trn, "REFNUM"),
        payer_name=_leaf(trn, "NAME") or (_leaf(payee, "NAME") if payee else ""),
        remittance=_leaf(trn, "MEMO"),
        bank_code=_leaf(trn, "TRNTYPE"),
    )


def _child(parent: _Element, tag: str) -> _Element | None:
    found = [child for child in parent.children if child.tag == tag]
    if len(found) > 1:
        raise StatementRejected(
            f"<{parent.tag}> has <{tag}> {len(found)} times; it may appear once", line=parent.line
        )
    return found[0] if found else None


def _aggregate(parent: _Element, tag: str, meaning: str) -> _Element:
    child = _child(parent, tag)
    if child is None:
        raise StatementRejected(f"<{parent.tag}> has no <{tag}> ({meaning})", line=parent.line)
    return child


def _leaf(parent: _Element, tag: str, meaning: str = "") -> str:
    """The text of a leaf; "" when it is absent, unless `meaning` says it is required."""
    child = _aggregate(parent, tag, meaning) if meaning else _child(parent, tag)
    if child is None:
        return ""
    if child.children:
        raise StatementRejected(
            f"<{tag}> in <{parent.tag}> must hold a value, not elements", line=parent.line
        )
    return child.text


def _amount(text: str, tag: str, *, line: int) -> Decimal:
    # the OFX spec allows a decimal comma; billops refuses it rather than guess what 1,234 means
    if not _PLAIN_NUMBER.fullmatch(text):
        raise StatementRejected(f"{tag} must be a plain number like -120.00, not {text!r}", line=line)
    return Decimal(text)


def _date(text: str, tag: str, *, line: int) -> date:
    """The day as the bank wrote it: a time and a time zone are ignored, never converted to UTC."""
    match = _OFX_DATE.fullmatch(text)
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass  # a day that does not exist, refused below like any other
    raise StatementRejected(f"{tag} {text!r} is not an OFX date like 20260314 or 20260314120000", line=line)


def write_ofx(statements: list[ParsedStatement]) -> bytes:
    """Write statements as one OFX 2.2 file, for billops' demo and tests; `parse_ofx` reads back every
    field OFX carries, with `line` the line of each <STMTTRN> in this file.

    OFX has no place for the opening balance, the payer's account and bank, or a creditor reference:
    they are left out, as are pending lines (OFX lists them without a FITID and billops posts none).
    The statement's period (DTSTART/DTEND) is its `statement_id` when that is a period like
    2026-03-01/2026-03-31 (as `parse_ofx` gives it), else the days its lines and balance span.
    BANKID and ACCTTYPE, which billops does not keep, are not written either, so readers that insist
    on them (ofxtools' models) refuse the file. Raises ValueError for what cannot be written: a
    statement without a closing balance and its date, a line in another currency, a control character.
    """
    if not statements:
        raise ValueError("an OFX file needs at least one statement")
    periods = [_period(statement) for statement in statements]
    ofx = ET.Element("OFX")
    signon = _add(_add(ofx, "SIGNONMSGSRSV1"), "SONRS")
    _status(signon)
    _add(signon, "DTSERVER", max(end for _, end in periods).strftime("%Y%m%d"))
    _add(signon, "LANGUAGE", "ENG")
    bank = _add(ofx, "BANKMSGSRSV1")
    for number, (statement, (start, end)) in enumerate(zip(statements, periods, strict=True), start=1):
        response = _add(bank, "STMTTRNRS")
        _add(response, "TRNUID", str(number))
        _status(response)
        stmtrs = _add(response, "STMTRS")
        _add(stmtrs, "CURDEF", statement.currency)
        _add(_add(stmtrs, "BANKACCTFROM"), "ACCTID", _xml_text(statement.account))
        transactions = _add(stmtrs, "BANKTRANLIST")
        _add(transactions, "DTSTART", start.strftime("%Y%m%d"))
        _add(transactions, "DTEND", end.strftime("%Y%m%d"))
        for line in statement.booked:
            if line.currency != statement.currency:
                raise ValueError(
                    f"line {line.line} is in {line.currency}, its statement in {statement.currency}"
                )
            _write_line(_add(transactions, "STMTTRN"), line)
        balance, as_of = _closing(statement)
        ledger = _add(stmtrs, "LEDGERBAL")
        _add(ledger, "BALAMT", format(balance, "f"))
        _add(ledger, "DTASOF", as_of.strftime("%Y%m%d"))
    ET.indent(ofx)
    header = (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        '<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>\n'
    )
    return (header + ET.tostring(ofx, encoding="unicode") + "\n").encode("utf-8")


def _closing(statement: ParsedStatement) -> tuple[Decimal, date]:
    if statement.closing_balance is None or statement.closing_on is None:
        raise ValueError(f"statement {statement.statement_id} needs a closing balance and its date for OFX")
    return statement.closing_balance, statement.closing_on


def _period(statement: ParsedStatement) -> tuple[date, date]:
    named = _PERIOD.fullmatch(statement.statement_id)
    if named:
        return date.fromisoformat(named[1]), date.fromisoformat(named[2])
    days = [line.booked_on for line in statement.booked] + [_closing(statement)[1]]
    return min(days), max(days)


def _write_line(trn: ET.Element, line: StatementLine) -> None:
    if line.bank_code:
        _add(trn, "TRNTYPE", _xml_text(line.bank_code))
    _add(trn, "DTPOSTED", line.booked_on.strftime("%Y%m%d"))
    if line.value_on:
        _add(trn, "DTAVAIL", line.value_on.strftime("%Y%m%d"))
    _add(trn, "TRNAMT", format(line.amount, "f"))
    _add(trn, "FITID", _xml_text(line.bank_reference))
    if line.end_to_end_id:
        _add(trn, "CHECKNUM" if line.bank_code == "CHECK" else "REFNUM", _xml_text(line.end_to_end_id))
    if line.payer_name:
        _add(trn, "NAME", _xml_text(line.payer_name))
    if line.remittance:
        _add(trn, "MEMO", _xml_text(line.remittance))


def _status(parent: ET.Element) -> None:
    status = _add(parent, "STATUS")
    _add(status, "CODE", "0")
    _add(status, "SEVERITY", "INFO")


def _add(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text
    return element


def _xml_text(text: str) -> str:
    if _NOT_IN_XML.search(text):
        raise ValueError(f"{text!r} holds a control character, which an OFX 2 (XML) file cannot carry")
    return text
