"""Staff pages for approvals: the inbox (what waits for my decision, my own requests, every request) and a
request's page, which shows the snapshot exactly with its digest and the forms that approve (carrying the
digest shown), reject or cancel it; refusals are shown on the page and change nothing."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from billops.access.approvals.policies import set_approval_policy
from billops.access.models import ApprovalPolicy, ApprovalRequest, Role, User
from tests.access.test_approvals import RENAME, ask, unchanged

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def words(page: str) -> str:
    """The page's text as a reader sees it, tags dropped and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def section(page: str, element_id: str) -> str:
    """The words inside the element with this id (up to its closing tag of the same name)."""
    found = re.search(rf'<(\w+)[^>]*\bid="{re.escape(element_id)}"[^>]*>(.*?)</\1>', page, re.S)
    assert found, f"no element {element_id}"
    return words(found[2])


def digest_field(page: str) -> str:
    found = re.search(r'<input type="hidden" name="snapshot_digest" value="([0-9a-f]*)"', page)
    assert found, "no digest in the approve form"
    return found[1]


@pytest.fixture
def policy(make_user: Callable[..., User]) -> ApprovalPolicy:
    return set_approval_policy(
        action=RENAME, currency="EUR", approval_from="50.00",
        limits={Role.SUPERVISOR: "1000.00", Role.COLLECTOR: "200"}, actor=make_user(Role.ADMIN),
    )  # fmt: skip


@pytest.fixture
def target(make_user: Callable[..., User]) -> User:
    return make_user(Role.CLERK, "renamed")


@pytest.fixture
def pending(policy: ApprovalPolicy, clerk: User, target: User) -> ApprovalRequest:
    return ask(clerk, target, "Ann", amount="120.00")


def test_the_inbox_shows_what_waits_for_me_and_my_own_requests(
    pending: ApprovalRequest, clerk: User, supervisor: User, collector: User
) -> None:
    page = text(signed_in(supervisor).get(reverse("approvals:inbox")))
    assert section(page, f"waiting-{pending.pk}") == (
        f"{pending.pk} Rename a user 120.00 EUR access.user {pending.target_id} clerk "
        f"{pending.requested_at:%Y-%m-%d %H:%M} typo in the name Pending —"
    )
    assert "You have not asked for any approval." in page

    maker_page = text(signed_in(clerk).get(reverse("approvals:inbox")))
    assert "Your role does not decide approvals." not in maker_page  # a clerk decides; it has no limit here
    assert "Nothing waits for your decision." in maker_page
    assert f'id="mine-{pending.pk}"' in maker_page

    assert "Nothing waits for your decision." not in text(
        signed_in(collector).get(reverse("approvals:inbox"))
    )
    policy = ApprovalPolicy.objects.get(action=RENAME)
    assert section(page, f"policy-{RENAME}-EUR") == (
        f"Rename a user {RENAME} EUR 50.00 EUR Collector up to 200.00 EUR "
        f"Billing supervisor up to 1,000.00 EUR {policy.updated_at:%Y-%m-%d %H:%M} "
        f"by {policy.updated_by.username}"
    )


def test_the_inbox_lists_every_request_filtered(pending: ApprovalRequest, auditor: User) -> None:
    client = signed_in(auditor)
    page = text(client.get(reverse("approvals:inbox")))
    assert "Your role does not decide approvals." in page
    assert f'id="all-{pending.pk}"' in page
    assert f'id="all-{pending.pk}"' not in text(
        client.get(reverse("approvals:inbox"), {"status": "approved"})
    )
    assert f'id="all-{pending.pk}"' in text(client.get(reverse("approvals:inbox"), {"status": "lost"}))


def test_the_request_page_shows_the_snapshot_exactly_with_its_digest(
    pending: ApprovalRequest, supervisor: User, target: User
) -> None:
    response = signed_in(supervisor).get(reverse("approvals:request", args=[pending.pk]))

    assert response.status_code == 200
    page = text(response)
    # the "from" of a user without a first name is the empty text: shown as such, not left out
    assert section(page, "snapshot") == "user renamed role clerk changes field from to first_name (empty) Ann"
    assert "<th>field</th><th>from</th><th>to</th>" in page  # the list of records is a table
    assert section(page, "digest") == pending.snapshot_digest
    assert digest_field(page) == pending.snapshot_digest
    assert section(page, "amount") == "120.00 EUR"
    assert section(page, "reason") == "typo in the name"
    # the registering app links the target to its page: here, its audit trail
    assert (
        f'<a href="/audit/?target_type=access.user&target_id={target.pk}">access.user {target.pk}</a>' in page
    )
    assert '"changes": [' in page  # the JSON as stored, for whoever wants it raw
    assert 'id="approve-form"' in page and 'id="reject-form"' in page and 'id="cancel-form"' not in page


def test_approving_from_the_page_performs_the_action(
    pending: ApprovalRequest, supervisor: User, target: User
) -> None:
    client = signed_in(supervisor)
    shown = digest_field(text(client.get(reverse("approvals:request", args=[pending.pk]))))

    response = client.post(
        reverse("approvals:approve", args=[pending.pk]),
        {"note": "fine", "snapshot_digest": shown},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("approvals:request", args=[pending.pk]), 302)]
    page = text(response)
    assert (
        f"Approval request {pending.pk} approved: Rename a user is done. It produced access.user {target.pk}."
        in page
    )
    assert section(page, "result") == f"access.user {target.pk}"
    assert f'href="/audit/?target_type=access.user&target_id={target.pk}"' in page
    assert "it is not decided again" in page and 'id="approve-form"' not in page
    target.refresh_from_db()
    assert target.first_name == "Ann"


def test_a_request_amended_since_the_page_was_opened_is_refused_and_shown_again(
    pending: ApprovalRequest, clerk: User, supervisor: User, target: User
) -> None:
    client = signed_in(supervisor)
    shown = digest_field(text(client.get(reverse("approvals:request", args=[pending.pk]))))
    amended = ask(clerk, target, "Anne", amount="130.00")

    with unchanged():
        response = client.post(reverse("approvals:approve", args=[pending.pk]), {"snapshot_digest": shown})

    assert response.status_code == 200
    page = text(response)
    assert "the request changed since you opened it" in page
    assert digest_field(page) == amended.snapshot_digest != shown  # the page now shows the amended one
    assert "Anne" in section(page, "snapshot") and section(page, "amount") == "130.00 EUR"


def test_a_note_too_long_is_shown_under_it_and_the_typed_note_kept(
    pending: ApprovalRequest, supervisor: User
) -> None:
    with unchanged():
        response = signed_in(supervisor).post(
            reverse("approvals:approve", args=[pending.pk]),
            {"note": "n" * 501, "snapshot_digest": pending.snapshot_digest},
        )
    page = text(response)
    assert section(page, "approve-note-errors") == "note has at most 500 characters"
    assert "n" * 501 in page and digest_field(page) == pending.snapshot_digest


def test_the_maker_sees_why_they_cannot_decide_and_may_cancel(pending: ApprovalRequest, clerk: User) -> None:
    client = signed_in(clerk)
    page = text(client.get(reverse("approvals:request", args=[pending.pk])))
    assert section(page, "why-not").startswith("clerk asked for approval request")
    assert 'id="approve-form"' not in page and 'id="cancel-form"' in page

    with unchanged():
        refused = client.post(reverse("approvals:approve", args=[pending.pk]), {"snapshot_digest": "x"})
    assert refused.status_code == 403
    assert "cannot decide it; a second person must" in text(refused)

    response = client.post(
        reverse("approvals:cancel", args=[pending.pk]), {"note": "never mind"}, follow=True
    )
    assert f"Approval request {pending.pk} cancelled: nothing was done." in text(response)
    pending.refresh_from_db()
    assert (pending.status, pending.decision_note) == ("cancelled", "never mind")


def test_rejecting_from_the_page_needs_a_note(
    pending: ApprovalRequest, supervisor: User, target: User
) -> None:
    client = signed_in(supervisor)
    with unchanged():
        response = client.post(reverse("approvals:reject", args=[pending.pk]), {"note": ""})
    assert response.status_code == 200
    page = text(response)
    assert section(page, "reject-note-errors") == "give a note"

    response = client.post(
        reverse("approvals:reject", args=[pending.pk]), {"note": "keep the name"}, follow=True
    )
    assert f"Approval request {pending.pk} rejected: nothing was done." in text(response)
    target.refresh_from_db()
    assert target.first_name == ""


def test_an_approver_over_the_limit_sees_why_and_is_refused(
    policy: ApprovalPolicy, clerk: User, collector: User, target: User
) -> None:
    request = ask(clerk, target, "Ann", amount="250.00")
    client = signed_in(collector)
    page = text(client.get(reverse("approvals:request", args=[request.pk])))
    assert section(page, "why-not") == (
        f"the collector role may approve {RENAME} up to 200.00 EUR; this request is for 250.00 EUR"
    )
    with unchanged():
        refused = client.post(
            reverse("approvals:approve", args=[request.pk]), {"snapshot_digest": request.snapshot_digest}
        )
    assert refused.status_code == 403 and "up to 200.00 EUR" in text(refused)


def test_the_auditor_reads_a_request_without_forms_and_cannot_decide(
    pending: ApprovalRequest, auditor: User
) -> None:
    client = signed_in(auditor)
    page = text(client.get(reverse("approvals:request", args=[pending.pk])))
    assert section(page, "why-not") == "Your role does not decide approvals."
    with unchanged():
        refused = client.post(reverse("approvals:approve", args=[pending.pk]), {})
    assert refused.status_code == 403
    assert "the auditor role may not do approvals.decide" in text(refused)


def test_an_unknown_request_is_a_404_and_pages_need_a_sign_in(supervisor: User) -> None:
    assert signed_in(supervisor).get(reverse("approvals:request", args=[999])).status_code == 404
    response = Client().get(reverse("approvals:inbox"))
    assert response.status_code == 302 and "login" in response["Location"]
