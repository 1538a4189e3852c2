"""The ledger API: amounts as decimal text, errors as {code, message, field}, writes for supervisors only."""

import json
from datetime import date

import pytest

from billops.audit.models import AuditEvent
from billops.ledger.accounts import BANK, REVENUE
from billops.ledger.models import AccountingPeriod, JournalEntry, PeriodStatus
from billops.ledger.posting import credit, debit
from billops.ledger.services import close_period
from tests.ledger.factories import book_state, eur, post, post_document


def entry_body(debit_amount="10.10", credit_amount="10.10", currency="EUR", **changes):
    body = {
        "posted_on": "2025-03-14",
        "memo": "accrual",
        "lines": [
            {"account": "1000", "currency": currency, "debit": debit_amount},
            {
                "account": "revenue",
                "currency": currency,
                "credit": credit_amount,
                "customer_id": 3,
                "memo": "fee",
            },
        ],
    }
    body.update(changes)
    return body


def post_raw(client, path, raw_json):
    """Send JSON text exactly as written, so a number stays a number."""
    return client.client.post(f"/api/v1{path}", raw_json, content_type="application/json")


def test_supervisor_posts_a_manual_entry(api_as, supervisor):
    response = api_as(supervisor).post("/ledger/entries", entry_body())
    assert response.status_code == 201, response.content
    body = response.json()
    entry = JournalEntry.objects.get()
    assert body["id"] == entry.id
    assert (body["posted_on"], body["period"], body["memo"], body["posted_by"]) == (
        "2025-03-14", "2025-03-01", "accrual", "supervisor"
    )  # fmt: skip
    assert (body["reversal_of"], body["reversed_by"], body["source_type"], body["digest"]) == (
        None, None, "", entry.digest
    )  # fmt: skip
    assert body["lines"] == [
        {"line_no": 1, "account": "1000", "account_name": "Bank", "currency": "EUR", "debit": "10.10",
         "credit": "0.00", "customer_id": None, "memo": ""},
        {"line_no": 2, "account": "4000", "account_name": "Revenue", "currency": "EUR", "debit": "0.00",
         "credit": "10.10", "customer_id": 3, "memo": "fee"},
    ]  # fmt: skip
    assert AuditEvent.objects.get(journal_entry_id=entry.id).action == "ledger.entry_posted"
    assert api_as(supervisor).get(f"/ledger/entries/{entry.id}").json() == body


def test_a_json_float_amount_is_refused_naming_the_field(api_as, supervisor):
    client = api_as(supervisor)
    before = book_state()
    raw = json.dumps(entry_body()).replace('"debit": "10.10"', '"debit": 10.10')
    assert '"debit": 10.10' in raw
    response = post_raw(client, "/ledger/entries", raw)
    assert response.status_code == 422
    body = response.json()
    assert (body["code"], body["field"]) == ("invalid", "lines.0.debit")
    assert body["message"] == "lines.0.debit: debit must be given as a decimal string, not a float (10.1)"
    assert book_state() == before


def test_whole_json_numbers_are_exact_and_accepted(api_as, supervisor):
    raw = json.dumps(entry_body(debit_amount=10, credit_amount="10.00"))
    response = post_raw(api_as(supervisor), "/ledger/entries", raw)
    assert response.status_code == 201, response.content
    assert [line["debit"] for line in response.json()["lines"]] == ["10.00", "0.00"]


@pytest.mark.parametrize(
    ("changes", "status", "code", "field", "message"),
    [
        (
            {"debit_amount": "10.005", "credit_amount": "10.005"},
            400, "invalid_amount", "lines.0.debit",
            "line 1: debit 10.005 has more decimal places than EUR allows (2)",
        ),
        (
            {"currency": "XYZ"},
            400, "unknown_currency", "lines.0.currency", "'XYZ' is not an ISO 4217 currency code",
        ),
        (
            {"credit_amount": "10.00"},
            400, "unbalanced_entry", "lines", "the entry does not balance: debits exceed credits by 0.10 EUR",
        ),
        (
            {"debit_amount": "1e3", "credit_amount": "1000"},
            422, "invalid", "lines.0.debit", "lines.0.debit: debit '1e3' is not a number like 1234.50",
        ),
        (
            {"debit_amount": "-1.00", "credit_amount": "-1.00"},
            400, "invalid_amount", "lines.0.debit", "line 1: the debit must be more than zero, got -1.00 EUR",
        ),
    ],
)  # fmt: skip
def test_bad_entries_are_refused_with_code_message_and_field(
    api_as, supervisor, changes, status, code, field, message
):
    client = api_as(supervisor)
    before = book_state()
    response = client.post("/ledger/entries", entry_body(**changes))
    assert response.status_code == status, response.content
    body = response.json()
    assert (body["code"], body["field"], body["message"]) == (code, field, message)
    assert book_state() == before


@pytest.mark.parametrize(
    ("line", "account", "field", "named"),
    [
        (0, "1200", "lines.0.account", "1200 (Accounts receivable)"),
        (1, "unapplied_cash", "lines.1.account", "2100 (Unapplied cash)"),
    ],
)
def test_a_manual_entry_on_a_subledger_account_is_400(api_as, supervisor, line, account, field, named):
    body = entry_body()
    body["lines"][line]["account"] = account
    client = api_as(supervisor)
    before = book_state()
    response = client.post("/ledger/entries", body)
    assert response.status_code == 400, response.content
    assert response.json() == {
        "code": "subledger_account",
        "message": f"account {named} is kept by a subledger; post to it through a customer document "
        "(an opening balance, an invoice, a payment), not a manual entry",
        "field": field,
    }
    assert book_state() == before


def test_a_line_with_both_or_neither_side_is_refused(api_as, supervisor):
    body = entry_body()
    body["lines"][0]["credit"] = "10.10"
    client = api_as(supervisor)
    response = client.post("/ledger/entries", body)
    assert response.status_code == 400
    assert response.json()["field"] == "lines.0"
    assert JournalEntry.objects.count() == 0


def test_posting_into_a_closed_period_is_409(api_as, supervisor):
    post(supervisor, debit(BANK, eur("1.00")), credit(REVENUE, eur("1.00")))
    close_period(start_on=date(2025, 3, 1), actor=supervisor)
    client = api_as(supervisor)
    before = book_state()
    response = client.post("/ledger/entries", entry_body())
    assert response.status_code == 409
    assert response.json() == {
        "code": "period_closed",
        "message": "cannot post on 2025-03-14: the period March 2025 is closed; a supervisor can reopen it",
        "field": "posted_on",
    }
    assert book_state() == before


def test_clerk_closing_a_period_gets_403_and_nothing_changes(api_as, clerk, supervisor):
    post(supervisor, debit(BANK, eur("1.00")), credit(REVENUE, eur("1.00")))
    client = api_as(clerk)
    before = book_state()
    response = client.post("/ledger/periods/2025-03-01/close")
    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "message": "the clerk role may not do ledger.close_period",
        "field": None,
    }
    assert book_state() == before
    assert before["periods"] == [(date(2025, 3, 1), PeriodStatus.OPEN)]


def test_supervisor_closes_and_reopens_a_period_through_the_api(api_as, supervisor):
    client = api_as(supervisor)
    closed = client.post("/ledger/periods/2025-03-01/close")
    assert closed.status_code == 200, closed.content
    assert (closed.json()["status"], closed.json()["closed_by"], closed.json()["end_on"]) == (
        "closed", "supervisor", "2025-03-31"
    )  # fmt: skip
    missing_reason = client.post("/ledger/periods/2025-03-01/reopen", {})
    assert missing_reason.status_code == 422
    assert missing_reason.json()["field"] == "reason"
    reopened = client.post("/ledger/periods/2025-03-01/reopen", {"reason": "late invoice"})
    assert reopened.status_code == 200
    assert (reopened.json()["status"], reopened.json()["reopened_by"]) == ("open", "supervisor")
    assert AuditEvent.objects.get(action="ledger.period_reopened").after["reason"] == "late invoice"
    listed = client.get("/ledger/periods").json()
    assert [(p["start_on"], p["status"]) for p in listed] == [("2025-03-01", "open")]


def test_auditor_gets_403_on_every_write_endpoint_and_nothing_changes(api_as, auditor, supervisor):
    entry = post(supervisor, debit(BANK, eur("1.00")), credit(REVENUE, eur("1.00")))
    close_period(start_on=date(2025, 3, 1), actor=supervisor)
    client = api_as(auditor)
    before = book_state()
    writes = [
        ("/ledger/accounts", {"code": "1300", "name": "Cash", "type": "asset"}),
        ("/ledger/periods/2025-04-01/close", None),
        ("/ledger/periods/2025-03-01/reopen", {"reason": "because"}),
        ("/ledger/entries", entry_body(posted_on="2025-04-02")),
        (f"/ledger/entries/{entry.id}/reverse", {"posted_on": "2025-04-02", "reason": "because"}),
    ]
    for path, body in writes:
        response = client.post(path, body)
        assert response.status_code == 403, (path, response.content)
        assert response.json()["code"] == "permission_denied"
    assert book_state() == before
    assert client.get("/ledger/trial-balance", as_of="2025-12-31").status_code == 200  # reading is fine


def test_reverse_through_the_api_and_a_second_time_is_409(api_as, supervisor):
    entry = post(supervisor, debit(BANK, eur("1.00")), credit(REVENUE, eur("1.00")))
    client = api_as(supervisor)
    response = client.post(
        f"/ledger/entries/{entry.id}/reverse", {"posted_on": "2025-03-15", "reason": "typo"}
    )
    assert response.status_code == 201, response.content
    reversal = response.json()
    assert reversal["reversal_of"] == entry.id
    assert [(line["account"], line["debit"], line["credit"]) for line in reversal["lines"]] == [
        ("1000", "0.00", "1.00"),
        ("4000", "1.00", "0.00"),
    ]
    assert client.get(f"/ledger/entries/{entry.id}").json()["reversed_by"] == reversal["id"]
    before = book_state()
    again = client.post(f"/ledger/entries/{entry.id}/reverse", {"posted_on": "2025-03-15", "reason": "typo"})
    assert again.status_code == 409
    assert again.json()["code"] == "already_reversed"
    assert book_state() == before


def test_reversing_a_documents_entry_through_the_api_is_409(api_as, supervisor):
    document = post_document(
        supervisor, debit(BANK, eur("5.00")), credit(REVENUE, eur("5.00")), source=("tests.payment", "3")
    )
    client = api_as(supervisor)
    before = book_state()
    response = client.post(
        f"/ledger/entries/{document.id}/reverse", {"posted_on": "2025-03-15", "reason": "typo"}
    )
    assert response.status_code == 409
    assert response.json() == {
        "code": "document_entry",
        "message": f"entry {document.id} was posted by tests.payment 3; "
        "correct that document instead of reversing its entry",
        "field": "entry_id",
    }
    assert book_state() == before
    assert client.get(f"/ledger/entries/{document.id}").json()["reversed_by"] is None


def test_list_entries_is_paginated_and_filtered(api_as, supervisor):
    for n in range(3):
        post(
            supervisor,
            debit(BANK, eur(f"{n + 1}.00")),
            credit(REVENUE, eur(f"{n + 1}.00")),
            on=date(2025, 3, n + 1),
        )
    client = api_as(supervisor)
    page = client.get("/ledger/entries", limit=2).json()
    assert page["count"] == 3
    assert [item["posted_on"] for item in page["items"]] == ["2025-03-03", "2025-03-02"]
    filtered = client.get("/ledger/entries", posted_from="2025-03-02", posted_to="2025-03-02").json()
    assert [item["lines"][0]["debit"] for item in filtered["items"]] == ["2.00"]
    assert client.get("/ledger/entries/999999").status_code == 404


def test_trial_balance_endpoint(api_as, supervisor, auditor):
    post(supervisor, debit(BANK, eur("10.10")), credit(REVENUE, eur("10.10")), on=date(2025, 3, 1))
    post(supervisor, debit(BANK, eur("0.20")), credit(REVENUE, eur("0.20")), on=date(2025, 3, 2))
    client = api_as(auditor)
    response = client.get("/ledger/trial-balance", as_of="2025-03-01")
    assert response.status_code == 200
    assert response.json() == {
        "as_of": "2025-03-01",
        "rows": [
            {"account": "1000", "account_name": "Bank", "account_type": "asset", "currency": "EUR",
             "debit": "10.10", "credit": "0.00", "balance": "10.10"},
            {"account": "4000", "account_name": "Revenue", "account_type": "revenue", "currency": "EUR",
             "debit": "0.00", "credit": "10.10", "balance": "-10.10"},
        ],
        "totals": [{"currency": "EUR", "debit": "10.10", "credit": "10.10", "difference": "0.00"}],
    }  # fmt: skip
    later = client.get("/ledger/trial-balance", as_of="2025-03-31", currency="EUR").json()
    assert later["totals"] == [{"currency": "EUR", "debit": "10.30", "credit": "10.30", "difference": "0.00"}]
    bad = client.get("/ledger/trial-balance", currency="EURO")
    assert (bad.status_code, bad.json()["code"]) == (400, "unknown_currency")


def test_accounts_endpoints(api_as, supervisor, clerk):
    client = api_as(supervisor)
    listed = client.get("/ledger/accounts").json()
    assert [(a["code"], a["purpose"]) for a in listed][:3] == [
        ("1000", None),
        ("1100", "bank_clearing"),
        ("1200", "receivables"),
    ]
    created = client.post("/ledger/accounts", {"code": "1010", "name": "Second bank", "type": "asset"})
    assert created.status_code == 201
    assert created.json() == {
        "code": "1010",
        "name": "Second bank",
        "type": "asset",
        "purpose": None,
        "is_active": True,
    }
    duplicate = client.post("/ledger/accounts", {"code": "1010", "name": "Again", "type": "asset"})
    assert (duplicate.status_code, duplicate.json()["field"]) == (409, "code")
    typo = client.post("/ledger/accounts", {"code": "1020", "name": "Typo", "type": "asset", "purpos": "x"})
    assert typo.status_code == 422
    assert (
        api_as(clerk).post("/ledger/accounts", {"code": "1030", "name": "X", "type": "asset"}).status_code
        == 403
    )
    assert AccountingPeriod.objects.count() == 0


# found by schemathesis (tests/test_api_schema.py): Pydantic read a number as a Unix timestamp, so a
# mistyped `0` closed the period of January 1970 and `as_of=0` reported the book as of 1970
@pytest.mark.parametrize("start_on", ["0", "1741910400", "2025-3-1"])
def test_a_period_is_named_by_its_date_never_a_number(api_as, supervisor, start_on):
    client = api_as(supervisor)
    before = book_state()
    response = client.post(f"/ledger/periods/{start_on}/close")
    assert response.status_code == 422
    assert response.json()["message"] == "start_on: a date is written YYYY-MM-DD"
    assert response.json()["field"] == "start_on"
    assert book_state() == before
    assert not AuditEvent.objects.filter(action="ledger.period_closed").exists()


def test_a_number_is_not_taken_for_a_date_in_queries_or_bodies(api_as, supervisor):
    client = api_as(supervisor)
    assert client.get("/ledger/trial-balance", as_of=0).json()["field"] == "as_of"
    assert client.get("/ledger/entries", posted_from="1741910400").status_code == 422
    before = book_state()
    response = post_raw(client, "/ledger/entries", json.dumps(entry_body(posted_on=1741910400)))
    assert (response.status_code, response.json()["field"]) == (422, "posted_on")
    assert book_state() == before


# found by schemathesis: an id past a 64-bit integer reached the database and came back as a 500
def test_an_id_too_large_for_the_database_is_422(api_as, supervisor):
    client = api_as(supervisor)
    too_large = 2**63
    assert client.get(f"/ledger/entries/{too_large}").status_code == 422
    before = book_state()
    body = entry_body()
    body["lines"][1]["customer_id"] = too_large
    response = client.post("/ledger/entries", body)
    assert (response.status_code, response.json()["field"]) == (422, "lines.1.customer_id")
    assert book_state() == before


# found by schemathesis: a body that is not JSON got Ninja's own {"detail": ...}, not our error shape
def test_a_body_that_is_not_json_is_400_in_the_error_shape(api_as, supervisor):
    client = api_as(supervisor)
    before = book_state()
    response = post_raw(client, "/ledger/entries", "{not json")
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "the request body is not valid JSON",
        "field": None,
    }
    assert book_state() == before


# found by schemathesis: PostgreSQL can neither store nor compare text holding NUL, which was a 500
def test_text_with_a_nul_character_is_400_naming_the_field(api_as, supervisor):
    client = api_as(supervisor)
    before = book_state()
    body = entry_body()
    body["lines"][1]["memo"] = "fee\x00"
    response = client.post("/ledger/entries", body)
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "lines.1.memo holds a NUL character, which text may not contain",
        "field": "lines.1.memo",
    }
    account = client.post("/ledger/accounts", {"code": "4711", "name": "\x00", "type": "revenue"})
    assert (account.status_code, account.json()["field"]) == (400, "name")
    assert book_state() == before
    assert client.get("/ledger/entries", memo="\x00").json()["field"] == "memo"
