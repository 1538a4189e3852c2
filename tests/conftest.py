"""Fixtures shared by every test: users per role and an API client that authenticates with a real token.

A test that needs real commits (threads, a live server) uses `@pytest.mark.django_db(transaction=True)`
and never serialized_rollback: the flush after it sends post_migrate, which puts back the data every
installation starts with (payment terms, chart of accounts, audit chain head, content types).
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from billops.access import clock
from billops.access.models import Role, User
from billops.access.services import create_user, issue_api_token

PASSWORD = "correct horse battery staple"

# the invoicing fixtures (entity, catalog, customer) serve the invoicing, delivery and check tests alike
pytest_plugins = ["tests.invoicing.fixtures", "tests.browser"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # argon2 is the production hasher; tests only need a hasher, not a slow one
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clock_read_afresh() -> None:
    # each test is its own unit of work: a business date set by an earlier (rolled back) test is gone
    clock.forget()


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(role: str = Role.CLERK, username: str | None = None) -> User:
        name = username or f"{role}{next(counter)}"
        return create_user(
            username=name, password=PASSWORD, role=role, actor=None, check_password_strength=False
        )

    return make


@pytest.fixture
def clerk(make_user: Callable[..., User]) -> User:
    return make_user(Role.CLERK, "clerk")


@pytest.fixture
def supervisor(make_user: Callable[..., User]) -> User:
    return make_user(Role.SUPERVISOR, "supervisor")


@pytest.fixture
def auditor(make_user: Callable[..., User]) -> User:
    return make_user(Role.AUDITOR, "auditor")


@pytest.fixture
def collector(make_user: Callable[..., User]) -> User:
    return make_user(Role.COLLECTOR, "collector")


class ApiClient:
    """Calls /api/v1/ as one user, through a real bearer token and the whole middleware stack."""

    def __init__(self, user: User) -> None:
        _, self.token = issue_api_token(user=user, name="tests", actor=None)  # as the operator would
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {self.token}")

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1{path}", params)

    def post(self, path: str, body: Any = None, *, key: str | None = None) -> Any:
        headers = {"Idempotency-Key": key} if key else {}
        return self.client.post(
            f"/api/v1{path}",
            json.dumps(body if body is not None else {}),
            content_type="application/json",
            headers=headers,
        )

    def patch(self, path: str, body: Any, *, key: str | None = None) -> Any:
        headers = {"Idempotency-Key": key} if key else {}
        return self.client.patch(
            f"/api/v1{path}", json.dumps(body), content_type="application/json", headers=headers
        )


@pytest.fixture
def api_as() -> Callable[[User], ApiClient]:
    return ApiClient


def on_postgresql() -> bool:
    return connection.vendor == "postgresql"


def database_url() -> str:
    """The URL of the test database, for a second process (a worker, a killed command) to connect to."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgresql://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgresql` (triggers, row locks, real concurrency) run in the PostgreSQL pass."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="PostgreSQL only: runs in the PostgreSQL pass of make test")
    for item in items:
        if "postgresql" in item.keywords:
            item.add_marker(skip)


def tamper(sql: str, params: list[Any] | None = None) -> None:
    """Change rows behind the services' back, as an attacker with database access would.

    On PostgreSQL the immutability triggers are bypassed the only way they can be: as a superuser
    with `session_replication_role = replica`.
    """
    with connection.cursor() as cursor:
        if on_postgresql():
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params or [])
        if on_postgresql():
            cursor.execute("SET session_replication_role = origin")


def race(count: int, action: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    """Run `action(i)` in `count` threads released together; return results and errors."""
    start = threading.Barrier(count)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            start.wait()
            results.append(action(index))
        except BaseException as exc:  # noqa: BLE001 - sorted by the assertions
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


@pytest.fixture
def smtp_sink(settings: Any) -> Any:
    """A real SMTP server on 127.0.0.1 (a tests.mailsink.SmtpSink) that MAIL_SMTP_URL points at."""
    from tests.mailsink import SmtpSink  # here, so a run without aiosmtpd only fails the mail tests

    sink = SmtpSink()
    sink.start()
    settings.MAIL_SMTP_URL = sink.url
    settings.MAIL_TIMEOUT_SECONDS = 5
    yield sink
    sink.stop()


@pytest.fixture
def outbox_dir(settings: Any, tmp_path: Any) -> Any:
    """The embedded mode (no SMTP URL) with its outbox folder, a pathlib.Path, inside tmp_path."""
    settings.MAIL_SMTP_URL = ""
    settings.MAIL_OUTBOX_DIR = tmp_path / "outbox"
    return settings.MAIL_OUTBOX_DIR


@pytest.fixture(scope="session")
def redis_url() -> Any:
    """A throwaway Redis server on loopback for the Celery tests (tools/throwaway_redis.py); it fails with
    the reason when redis-server cannot be installed or started."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    from throwaway_redis import throwaway_redis

    with throwaway_redis() as url:
        yield url
