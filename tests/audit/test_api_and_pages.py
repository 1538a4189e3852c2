"""Request ids on events, the audit API and the staff audit log page."""

import json
import re

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

from billops.audit.models import AuditEvent
from billops.audit.services import GENESIS_HASH
from tests.audit.factories import record
from tests.conftest import tamper


def issue_token(api, headers):
    return api.client.post(
        "/api/v1/access/tokens", json.dumps({"name": "ci"}), content_type="application/json", headers=headers
    )


# request ids


def test_the_callers_request_id_lands_on_events_recorded_during_the_request(api_as, clerk):
    api = api_as(clerk)
    response = issue_token(api, {"X-Request-ID": "req-2028.02.29:0001"})
    assert response.status_code == 201
    assert response["X-Request-ID"] == "req-2028.02.29:0001"
    event = AuditEvent.objects.get(action="access.token_issued", target_id=str(response.json()["id"]))
    assert event.request_id == "req-2028.02.29:0001"


@pytest.mark.parametrize("given", [None, "", "has spaces", "x" * 65, "semi;colon"])
def test_a_request_without_a_usable_id_gets_a_generated_one(api_as, clerk, given):
    api = api_as(clerk)
    response = issue_token(api, {"X-Request-ID": given} if given is not None else {})
    assert response.status_code == 201
    generated = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    event = AuditEvent.objects.get(action="access.token_issued", target_id=str(response.json()["id"]))
    assert event.request_id == generated


def test_each_request_gets_its_own_generated_id(api_as, clerk):
    api = api_as(clerk)
    first, second = issue_token(api, {}), issue_token(api, {})
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_events_recorded_outside_a_request_have_no_request_id(clerk):
    assert record(clerk, clerk).request_id == ""


# the API (fixtures in the order they are requested: `chain` first makes the clerk #1 and its events #2-#6)


def test_audit_events_api_lists_newest_first_with_every_field(chain, auditor, api_as):
    response = api_as(auditor).get("/audit/events")
    assert response.status_code == 200
    body = response.json()
    events = AuditEvent.objects.order_by("-seq")
    assert body["count"] == events.count()
    assert [item["seq"] for item in body["items"]] == [event.seq for event in events]
    newest, first = body["items"][0], body["items"][-1]
    assert newest["action"] == "access.token_issued"  # the token the operator issued for this client
    assert newest["actor_label"] == "system"
    assert (first["seq"], first["action"], first["actor_label"]) == (1, "access.user_created", "system")
    assert first["after"] == {"username": "clerk", "role": "clerk"}
    assert set(first) == {
        "seq",
        "occurred_at",
        "actor_label",
        "action",
        "target_type",
        "target_id",
        "target_label",
        "before",
        "after",
        "request_id",
        "journal_entry_id",
        "hash",
    }


def test_audit_events_api_pages_with_limit_and_offset(chain, auditor, api_as):
    api = api_as(auditor)
    total = AuditEvent.objects.count()
    page = api.get("/audit/events", limit=2, offset=1).json()
    assert page["count"] == total
    assert [item["seq"] for item in page["items"]] == [total - 1, total - 2]
    assert api.get("/audit/events", limit=2, offset=total).json()["items"] == []
    refused = api.get("/audit/events", limit=0)
    assert refused.status_code == 422
    assert refused.json()["code"] == "invalid"


# found by schemathesis (tests/test_api_schema.py): an offset past a 64-bit integer went into SQL, a 500
def test_audit_events_api_refuses_an_offset_the_database_cannot_take(chain, auditor, api_as):
    api = api_as(auditor)
    refused = api.get("/audit/events", offset=2**63)
    assert refused.status_code == 422
    assert (refused.json()["code"], refused.json()["field"]) == ("invalid", "offset")
    assert api.get("/audit/events", offset=2**63 - 1).json()["items"] == []


# found by schemathesis: PostgreSQL cannot compare text holding NUL, so such a filter was a 500
def test_audit_events_api_refuses_a_filter_with_a_nul_character(chain, auditor, api_as):
    response = api_as(auditor).get("/audit/events", action="customers.\x00")
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("invalid", "action")


def test_audit_events_api_caps_a_page_at_500_events(chain, auditor, api_as):
    for _ in range(500):
        record(auditor, auditor)
    body = api_as(auditor).get("/audit/events", limit=10_000).json()
    assert body["count"] == AuditEvent.objects.count() > 500
    assert len(body["items"]) == 500


def test_audit_events_api_filters_by_action_target_and_actor(chain, clerk, auditor, api_as):
    api = api_as(auditor)
    by_action = api.get("/audit/events", action="access.token").json()
    assert {item["action"] for item in by_action["items"]} == {"access.token_issued"}
    assert by_action["count"] == 1
    by_actor = api.get("/audit/events", actor="clerk").json()
    assert [item["seq"] for item in by_actor["items"]] == [6, 5, 4, 3, 2]
    by_target = api.get("/audit/events", target_type="access.user", target_id=str(clerk.pk)).json()
    assert [item["seq"] for item in by_target["items"]] == [6, 5, 4, 3, 2, 1]
    assert api.get("/audit/events", action="ledger.").json() == {"items": [], "count": 0}


def test_audit_verify_api_reports_an_intact_chain(chain, auditor, api_as):
    body = api_as(auditor).get("/audit/verify").json()
    last = AuditEvent.objects.order_by("seq").last()
    assert body == {
        "ok": True,
        "events": last.seq,
        "last_seq": last.seq,
        "last_hash": last.hash,
        "first_bad_seq": None,
        "problem": "",
    }


def test_audit_verify_api_names_the_tampered_event(chain, auditor, api_as):
    api = api_as(auditor)
    tamper("UPDATE audit_auditevent SET action = %s WHERE seq = %s", ["test.rewritten", 4])
    body = api.get("/audit/verify").json()
    assert (body["ok"], body["first_bad_seq"], body["problem"]) == (False, 4, "event #4 was changed")


def test_audit_api_needs_a_token(db):
    response = Client().get("/api/v1/audit/events")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


# the staff page


@pytest.fixture
def browser(auditor):
    client = Client()
    client.force_login(auditor)
    return client


def test_audit_log_page_needs_a_login(db):
    response = Client().get("/audit/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_audit_log_page_lists_events_newest_first(chain, browser):
    response = browser.get("/audit/")
    assert response.status_code == 200
    page = response.context["page"]
    assert [event.seq for event in page] == [7, 6, 5, 4, 3, 2, 1]  # 7: the auditor was created
    assert page.paginator.count == 7
    html = response.content.decode()
    assert "<code>access.user_created</code>" in html
    assert "7 events" in html
    assert "The chain verifies" not in html  # verification only on request


def test_audit_log_page_filters(chain, clerk, browser):
    response = browser.get("/audit/", {"action": "access.", "actor": "", "target_id": str(clerk.pk)})
    assert [event.seq for event in response.context["page"]] == [1]
    assert response.context["filters"] == {
        "action": "access.",
        "target_type": "",
        "target_id": str(clerk.pk),
        "actor": "",
    }
    response = browser.get("/audit/", {"actor": "clerk"})
    assert [event.seq for event in response.context["page"]] == [6, 5, 4, 3, 2]
    response = browser.get("/audit/", {"action": "ledger."})
    assert "No events match." in response.content.decode()


def test_audit_log_page_shows_the_verification_on_request(chain, browser):
    last = AuditEvent.objects.order_by("seq").last()
    html = browser.get("/audit/", {"verify": "1"}).content.decode()
    assert f"The chain verifies: 7 events, last #7, head hash <code>{last.hash}</code>." in html


def test_audit_log_page_shows_a_broken_chain(chain, browser):
    tamper("DELETE FROM audit_auditevent WHERE seq = %s", [3])
    html = browser.get("/audit/", {"verify": "1"}).content.decode()
    assert "The chain does not verify: event #3 is missing (deleted)." in html


def test_audit_log_page_of_an_empty_chain(browser):
    html = browser.get("/audit/", {"verify": "1"}).content.decode()
    assert "The chain verifies: 1 events, last #1" in html
    assert GENESIS_HASH not in html


def test_audit_log_page_links_no_journal_entry_when_there_is_none(chain, browser):
    html = browser.get("/audit/").content.decode()
    assert "/ledger/" not in html.split("<tbody>")[1]


def test_audit_log_page_links_the_journal_entry_an_event_posted(browser, clerk):
    try:
        url = reverse("ledger:entry", args=[42])
    except NoReverseMatch:
        pytest.skip("the ledger app has no `ledger:entry` page yet")
    record(clerk, clerk, action="test.money_moved", journal_entry_id=42)
    html = browser.get("/audit/").content.decode()
    assert f'<a href="{url}">entry 42</a>' in html
