"""`billops token USER --name NAME`: the operator issues a user's first API token."""

from __future__ import annotations

from django.test import Client

from billops.access.models import ApiToken, User
from billops.audit.models import AuditEvent
from billops.cli.main import main


def test_token_prints_a_secret_once_that_authenticates_as_the_user(clerk: User, capsys) -> None:
    assert main(["token", "clerk", "--name", "ERP sync"]) == 0
    printed = capsys.readouterr().out.splitlines()
    secret = printed[-1]
    token = ApiToken.objects.get(user=clerk, name="ERP sync")
    assert printed[0] == f"API token 'ERP sync' for clerk (id {token.pk}); it is shown only this once:"
    assert secret.startswith("bo_")
    assert secret not in token.secret_hash
    me = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/access/me")
    assert me.json()["username"] == "clerk"
    event = AuditEvent.objects.get(action="access.token_issued")
    assert (event.actor_label, event.target_id, event.after) == (
        "system",
        str(token.pk),
        {"name": "ERP sync", "user": "clerk"},
    )


def test_token_for_an_unknown_user_fails_and_issues_nothing(db, capsys) -> None:
    assert main(["token", "nobody", "--name", "x"]) == 1
    assert "error: no user named 'nobody'" in capsys.readouterr().err
    assert not ApiToken.objects.exists()


def test_token_without_a_usable_name_fails_and_issues_nothing(clerk: User, capsys) -> None:
    assert main(["token", "clerk", "--name", "  "]) == 1
    assert "a token needs a name" in capsys.readouterr().err
    assert not ApiToken.objects.exists()
