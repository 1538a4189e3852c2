"""Billing documents as HTML and PDF: the exact printed strings per language, pages, escaping, no network.

Pure rendering: no database. The PDFs are read back with pypdf and rasterised with Debian's pdftoppm.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import socket
import struct
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader
from stdnum import iso11649

from billops.invoicing.rendering.formatting import (
    format_amount,
    format_date,
    format_number,
    format_percent,
    resolve_language,
)
from billops.invoicing.rendering.html import render_document_html, render_statement_html
from billops.invoicing.rendering.pdf import NetworkFetchRefused, refuse_network_fetch, render_pdf
from billops.invoicing.rendering.reference import creditor_reference, format_creditor_reference
from billops.invoicing.rendering.views import (
    AgingBucket,
    BankDetails,
    DocumentLine,
    DocumentView,
    Party,
    StatementRow,
    StatementView,
    TaxSummaryRow,
)
from billops.invoicing.rendering.wording import reverse_charge_note

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
NBSP, NNBSP = "\u00a0", "\u202f"  # babel's no-break space and narrow no-break space
WORKSHOP = "Onboarding workshop (remote), two sessions incl. preparation and written summary"

SELLER = Party(
    name="Nordlicht Software GmbH",
    address_lines=("Friedrichstraße 123", "10117 Berlin"),
    country="DE",
    vat_id="DE123456789",
    email="billing@nordlicht.example",
    phone="+49 30 1234567",
)
CUSTOMER = Party(
    "Acme Industries Ltd", ("Finance", "10 Queen Street", "London EC4N 1SP"), "GB", "GB123456789"
)
BANK = BankDetails("Nordlicht Software GmbH", "DE89370400440532013000", "COBADEFFXXX", "Commerzbank")


def line(
    description: str = "Consulting", quantity: str = "1", price: str = "1000", unit: str = "h", **changes: Any
):
    """A line at 19 % VAT whose net is its unit price unless given; any other field by keyword."""
    defaults: dict[str, Any] = {"unit": unit, "discount_percent": Decimal("0"), "tax_label": "VAT"}
    values = defaults | {"net": Decimal(price), "tax_rate": Decimal("19")} | changes
    return DocumentLine(
        description=description, quantity=Decimal(quantity), unit_price=Decimal(price), **values
    )


def document(**changes: Any) -> DocumentView:
    """An invoice of €1,234.50: €1,037.39 net at 19 % VAT; any field can be replaced."""
    view = DocumentView(
        kind="invoice",
        language="en",
        currency="EUR",
        number="INV-2026-000123",
        issue_on=date(2026, 11, 23),
        due_on=date(2026, 12, 23),
        seller=SELLER,
        bill_to=CUSTOMER,
        ship_to=None,
        lines=(line(price="1037.39"),),
        tax_summary=(TaxSummaryRow("VAT", Decimal("19"), Decimal("1037.39"), Decimal("197.11")),),
        subtotal=Decimal("1037.39"),
        discount_total=Decimal("0"),
        tax_total=Decimal("197.11"),
        total=Decimal("1234.50"),
        terms="Net 30 days",
        bank=BANK,
        payment_reference=creditor_reference("INV-2026-000123"),
        customer_account="C-10042",
    )
    return dataclasses.replace(view, **changes)


def sample_invoice(language: str = "en") -> DocumentView:
    """What a real customer receives: a subscription, seats with a discount, a workshop, 7 % print."""
    november = {"service_start": date(2026, 11, 1), "service_end": date(2026, 11, 30)}
    return document(
        language=language,
        ship_to=Party("Acme Industries Ltd — Warehouse", ("Unit 4, Dock Road", "Manchester M17 1AB"), "GB"),
        lines=(
            line("Professional plan subscription", "1", "490.00", "month", reference="SUB-42", **november),
            line(
                "Additional seats",
                "12",
                "19.90",
                "seat",
                net=Decimal("214.92"),
                discount_percent=Decimal("10"),
            ),
            line(WORKSHOP, "7.5", "120.00", net=Decimal("900.00")),
            line(
                "Printed user manuals", "3", "12.345600", "pcs", net=Decimal("37.04"), tax_rate=Decimal("7")
            ),
        ),
        tax_summary=(
            TaxSummaryRow("VAT", Decimal("19"), Decimal("1604.92"), Decimal("304.93")),
            TaxSummaryRow("VAT", Decimal("7"), Decimal("37.04"), Decimal("2.59")),
        ),
        subtotal=Decimal("1641.96"),
        discount_total=Decimal("23.88"),
        tax_total=Decimal("307.52"),
        total=Decimal("1949.48"),
        po_number="PO-7781",
        notes="Thank you for your business.",
        legal_notes=("Retention of title: goods remain our property until paid in full.",),
        remittance_text="Please transfer the amount due by the due date.",
        **november,
    )


def movement(on: date, kind: str, number: str, debit: str, credit: str, balance: str) -> StatementRow:
    return StatementRow(
        on, kind, number, f"{kind} {number}", None, Decimal(debit), Decimal(credit), Decimal(balance)
    )


def statement(**changes: Any) -> StatementView:
    view = StatementView(
        language="en",
        currency="EUR",
        seller=SELLER,
        customer=CUSTOMER,
        customer_account="C-10042",
        period_start=date(2026, 10, 1),
        as_of=date(2026, 11, 30),
        opening_balance=Decimal("500.00"),
        rows=(
            movement(date(2026, 10, 5), "payment", "PAY-0091", "0", "500.00", "0.00"),
            movement(date(2026, 10, 31), "invoice", "INV-2026-000101", "1190.00", "0", "1190.00"),
            movement(date(2026, 11, 10), "credit_note", "CN-2026-000007", "0", "59.50", "1130.50"),
        ),
        closing_balance=Decimal("1130.50"),
        aging=(
            AgingBucket("Current", Decimal("1130.50")),
            *(AgingBucket(f"{days} days", Decimal("0")) for days in (30, 60)),
        ),
        bank=BANK,
        payment_reference=creditor_reference("C-10042"),
    )
    return dataclasses.replace(view, **changes)


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def rasterise_first_page(pdf: bytes, folder: Path, dpi: int) -> Path:
    source = folder / "document.pdf"
    source.write_bytes(pdf)
    command = ["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile"]
    subprocess.run([*command, str(source), str(folder / "page")], check=True)
    return folder / "page.png"


def assert_a4(png: Path, dpi: int) -> None:
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    assert abs(width - 210 / 25.4 * dpi) <= 1 and abs(height - 297 / 25.4 * dpi) <= 1  # pdftoppm rounds up
    assert abs(height / width - 297 / 210) < 0.005


# --- documents ------------------------------------------------------------------------------------

ENGLISH = ["Invoice number INV-2026-000123", "Invoice date Nov 23, 2026", "Dec 23, 2026", "€1,234.50"]
GERMAN = ["Rechnungsnummer INV-2026-000123", "Rechnungsdatum 23.11.2026", "Fälligkeitsdatum", "23.12.2026"]
GERMAN += [f"Gesamtbetrag 1.234,50{NBSP}€", "Zwischensumme", "Einzelpreis", "Vereinigtes Königreich"]
FRENCH = ["Numéro de facture INV-2026-000123", format_amount(Decimal("1234.50"), "EUR", "fr")]
FRENCH += [f"Total TTC 1{NNBSP}234,50{NBSP}€", "Net à payer", "Date d'échéance", "23 déc. 2026"]


@pytest.mark.parametrize(
    ("language", "title", "expected", "page"),
    [
        ("en", "Invoice", ENGLISH, "Page 1 of 1"),
        ("de", "Rechnung", GERMAN, "Seite 1 von 1"),
        ("fr", "Facture", FRENCH, "Page 1 sur 1"),
        ("es", "Invoice", ENGLISH, "Page 1 of 1"),  # an unsupported language prints in English
    ],
)
def test_invoice_prints_in_its_language(language: str, title: str, expected: list[str], page: str) -> None:
    [text] = pages_text(render_pdf(render_document_html(document(language=language))))

    assert text.splitlines()[6].strip() == title  # after the six lines of the letterhead
    for printed in expected:
        assert printed in text
    assert page in text
    assert "RF98 INV2 0260 0012 3" in text  # the structured reference, in groups of four
    assert "DE89 3704 0044 0532 0130 00" in text
    assert "Nordlicht Software GmbH · Friedrichstraße 123, 10117 Berlin" in text.splitlines()[-1]


@pytest.mark.parametrize(
    ("language", "wording"),
    [
        ("en", "Reverse charge: VAT to be accounted for by the recipient"),
        ("de", "Steuerschuldnerschaft des Leistungsempfängers"),
        ("fr", f"Autoliquidation{NBSP}: TVA due par le preneur"),
    ],
)
def test_reverse_charge_invoice_prints_the_legal_note(language: str, wording: str) -> None:
    note = reverse_charge_note(language)
    zero = Decimal("0")
    view = document(
        language=language,
        lines=(line(price="1234.50", tax_label="Reverse charge", tax_rate=zero),),
        tax_summary=(TaxSummaryRow("Reverse charge", zero, Decimal("1234.50"), zero, note),),
        subtotal=Decimal("1234.50"),
        tax_total=zero,
        legal_notes=(note,),
    )

    text = " ".join(pages_text(render_pdf(render_document_html(view)))).replace("\n", " ")

    assert note.startswith(wording)
    assert text.count(wording) == 2  # under the tax summary row and among the legal notes


@pytest.mark.parametrize(
    ("kind", "language", "number_line", "correction_line"),
    [
        ("credit_note", "en", "Credit note number CN-1", "Credit note for invoice INV-2026-000101"),
        ("credit_note", "de", "Gutschriftsnummer CN-1", "Gutschrift zur Rechnung INV-2026-000101"),
        ("credit_note", "fr", "Numéro d'avoir CN-1", "Avoir sur la facture INV-2026-000101"),
        ("debit_note", "de", "Belastungsanzeige CN-1", "Belastungsanzeige zur Rechnung INV-2026-000101"),
    ],
)
def test_correction_names_the_original_invoice(
    kind: str, language: str, number_line: str, correction_line: str
):
    view = document(kind=kind, language=language, number="CN-1", original_number="INV-2026-000101")

    [text] = pages_text(render_pdf(render_document_html(view)))

    assert number_line in text and correction_line in text
    asks_for_payment = any(label in text for label in ("Amount due", "Zahlbetrag", "Net à payer"))
    assert asks_for_payment is (kind == "debit_note")  # a credit note asks for no payment


def test_draft_prints_the_marker_and_no_number() -> None:
    [text] = pages_text(render_pdf(render_document_html(document(kind="draft", number="INV-2026-000999"))))
    [german] = pages_text(render_pdf(render_document_html(document(kind="draft", language="de"))))

    assert "DRAFT — not a valid invoice" in text
    assert "INV-2026-000999" not in text and "Invoice number" not in text
    assert "Payment reference" not in text and "Amount due" not in text  # nobody pays a draft
    assert "ENTWURF — keine gültige Rechnung" in german


def test_discount_column_appears_only_when_a_line_has_a_discount() -> None:
    plain = render_document_html(document())
    discounted = render_document_html(sample_invoice())

    assert ">Discount<" not in plain
    assert ">Discount<" in discounted and ">10%<" in discounted
    assert ">12.3456<" in discounted and ">490.00<" in discounted and ">7.5<" in discounted


def test_sixty_lines_run_onto_several_pages_and_every_page_is_numbered() -> None:
    view = document(
        lines=tuple(line(f"Support ticket #{number:03d}", price="20.58") for number in range(1, 61))
    )

    pages = pages_text(render_pdf(render_document_html(view)))

    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
        assert "Nordlicht Software GmbH" in text and "DE123456789" in text  # the footer
        assert "Description" in text  # the table header repeats
    assert "Invoice INV-2026-000123" in pages[1]  # the running header names the document
    assert "Support ticket #060" in pages[-1]


def test_first_page_rasterises_to_an_a4_picture(tmp_path: Path) -> None:
    png = rasterise_first_page(render_pdf(render_document_html(document())), tmp_path, dpi=60)

    assert_a4(png, dpi=60)
    assert png.stat().st_size > 5_000  # something is drawn on it


@pytest.mark.parametrize("language", ["en", "de"])
def test_sample_invoice_picture_is_saved_for_review(language: str, tmp_path: Path) -> None:
    pdf = render_pdf(render_document_html(sample_invoice(language)))
    png = rasterise_first_page(pdf, tmp_path, dpi=80)

    ARTIFACTS.mkdir(exist_ok=True)
    suffix = "" if language == "en" else f"-{language}"
    (ARTIFACTS / f"invoice-sample{suffix}.png").write_bytes(png.read_bytes())
    assert len(pages_text(pdf)) == 1  # a four-line invoice fits on one page
    assert_a4(png, dpi=80)


# --- safety and reproducibility -------------------------------------------------------------------


HOSTILE = '<script>alert("x")</script><img src=http://127.0.0.1:9/pixel.png> & <b>bold</b>'


def test_hostile_text_is_escaped_and_printed_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    connections: list[object] = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: connections.append(address))
    view = document(
        lines=(line(HOSTILE),),
        bill_to=dataclasses.replace(CUSTOMER, name='Evil "Corp" <iframe src=http://127.0.0.1:9/>'),
        notes=HOSTILE,
    )

    html = render_document_html(view)
    text = " ".join(pages_text(render_pdf(html)))

    assert "<script>" not in html and "<img" not in html and "<iframe" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert '<script>alert("x")</script><img src=http://127.0.0.1:9/pixel.png> & <b>bold</b>' in text
    assert connections == []


def test_pdf_fetches_nothing_even_when_the_html_asks(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    connections: list[object] = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: connections.append(address))
    html = (
        '<html><head><link rel="stylesheet" href="http://127.0.0.1:9/style.css"></head><body>'
        '<img src="http://127.0.0.1:9/pixel.png"><img src="file:///etc/passwd">'
        '<div style="background: url(https://127.0.0.1:9/bg.png)">Invoice</div></body></html>'
    )

    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = render_pdf(html)

    assert pdf.startswith(b"%PDF-")
    assert connections == []
    assert "billing documents fetch nothing" in caplog.text


def test_fetcher_serves_inline_data_and_refuses_every_other_url() -> None:
    assert refuse_network_fetch("data:text/plain;base64,SGVsbG8=")["file_obj"].read() == b"Hello"
    for url in ("http://127.0.0.1/x.png", "https://example.org/a.css", "file:///etc/passwd", "ftp://h/f"):
        with pytest.raises(NetworkFetchRefused):
            refuse_network_fetch(url)


def test_same_html_gives_identical_pdf_bytes() -> None:
    html = render_document_html(sample_invoice())

    first, second = render_pdf(html), render_pdf(html)

    assert first == second
    assert b"/CreationDate" not in first and b"/ModDate" not in first


def test_pdf_bytes_do_not_change_between_processes(tmp_path: Path) -> None:
    html_path = tmp_path / "invoice.html"
    html_path.write_text(render_document_html(sample_invoice()), encoding="utf-8")
    script = (
        "import pathlib, sys\n"
        "from billops.invoicing.rendering.pdf import render_pdf\n"
        "sys.stdout.buffer.write(render_pdf(pathlib.Path(sys.argv[1]).read_text(encoding='utf-8')))\n"
    )

    environment = {**os.environ, "PYTHONHASHSEED": "1"}  # this process hashes with a random seed

    other = subprocess.run(
        [sys.executable, "-c", script, str(html_path)], env=environment, capture_output=True
    )

    # a different hash seed would show any set or dict ordering leaking into the file
    assert other.returncode == 0, other.stderr.decode()
    assert other.stdout == render_pdf(html_path.read_text(encoding="utf-8"))


# --- statement ------------------------------------------------------------------------------------


def test_statement_shows_opening_balance_rows_closing_balance_and_aging() -> None:
    [text] = pages_text(render_pdf(render_statement_html(statement())))

    assert "Statement of account" in text
    assert "Opening balance €500.00" in text
    assert "Payment \nPAY-0091" in text and "Invoice \nINV-2026-000101" in text
    assert "Credit note \nCN-2026-000007" in text and "€1,190.00" in text
    assert "Closing balance €1,130.50" in text
    assert "Current 30 days 60 days\n€1,130.50 €0.00 €0.00" in text  # the aging buckets
    assert "Balance due €1,130.50" in text
    assert format_creditor_reference(creditor_reference("C-10042")) in text
    assert "Page 1 of 1" in text


def test_german_statement_is_a_kontoauszug() -> None:
    [text] = pages_text(render_pdf(render_statement_html(statement(language="de"))))

    assert "Kontoauszug" in text
    assert f"Anfangssaldo 500,00{NBSP}€" in text
    assert f"Endsaldo 1.130,50{NBSP}€" in text
    assert "Zahlung" in text and "Gutschrift" in text  # the row kinds, translated
    assert "Seite 1 von 1" in text


# --- creditor reference ---------------------------------------------------------------------------


def test_creditor_reference_matches_the_iso_11649_example_and_drops_separators() -> None:
    assert creditor_reference("539007547034") == "RF18539007547034"
    assert format_creditor_reference("RF18539007547034") == "RF18 5390 0754 7034"
    assert iso11649.is_valid(creditor_reference("inv-2026 000123"))
    assert (
        creditor_reference("inv-2026 000123") == creditor_reference("INV/2026/000123") == "RF98INV2026000123"
    )


@given(body=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=21))
def test_every_creditor_reference_passes_the_bank_check(body: str) -> None:
    reference = creditor_reference(body)

    assert iso11649.is_valid(reference)
    assert iso11649.compact(format_creditor_reference(reference)) == reference


def test_creditor_reference_refuses_a_body_over_21_characters() -> None:
    with pytest.raises(ValueError, match="has 22"):
        creditor_reference("A" * 22)
    assert iso11649.is_valid(creditor_reference("A" * 21))


@pytest.mark.parametrize("text", ["", " - ", "RÉF-1", "Straße-٣"])
def test_creditor_reference_refuses_text_without_a_valid_body(text: str) -> None:
    with pytest.raises(ValueError, match="creditor reference"):
        creditor_reference(text)


# --- formatting -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "amount", "percent", "day"),
    [
        ("en", "€1,234.50", "7.7%", "Nov 23, 2026"),
        ("de", f"1.234,50{NBSP}€", f"7,7{NBSP}%", "23.11.2026"),
        ("fr", f"1{NNBSP}234,50{NBSP}€", f"7,7{NBSP}%", "23 nov. 2026"),
        ("xx", "€1,234.50", "7.7%", "Nov 23, 2026"),
    ],
)
def test_amounts_rates_and_dates_per_language(language: str, amount: str, percent: str, day: str) -> None:
    assert format_amount(Decimal("1234.5"), "EUR", language) == amount
    assert format_percent(Decimal("7.70"), language) == percent
    assert format_percent(Decimal("19.00"), language) == percent.replace("7.7", "19").replace("7,7", "19")
    assert format_date(date(2026, 11, 23), language) == day


@pytest.mark.parametrize(
    ("value", "min_places", "en", "de"),
    [
        ("1.5", 0, "1.5", "1,5"),
        ("12.345600", 0, "12.3456", "12,3456"),
        ("10.0000", 0, "10", "10"),
        ("1234.5000", 0, "1,234.5", "1.234,5"),
        ("12.50", 2, "12.50", "12,50"),
        ("12.345600", 2, "12.3456", "12,3456"),
        ("100", 2, "100.00", "100,00"),
    ],
)
def test_format_number_keeps_only_significant_places(value: str, min_places: int, en: str, de: str) -> None:
    assert format_number(Decimal(value), "en", min_places=min_places) == en
    assert format_number(Decimal(value), "de", min_places=min_places) == de


@pytest.mark.parametrize(
    ("given_language", "printed"), [("de-CH", "de"), ("fr_FR", "fr"), ("es", "en"), ("", "en")]
)
def test_resolve_language_falls_back_to_english(given_language: str, printed: str) -> None:
    assert resolve_language(given_language) == printed
