"""The throwaway Redis server the Celery tests run against: it answers, it is private, it leaves nothing."""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from throwaway_redis import throwaway_redis


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


def test_server_answers_ping_and_keeps_a_value() -> None:
    with throwaway_redis() as url:
        client = redis.Redis.from_url(url)
        assert url == f"redis://127.0.0.1:{_port(url)}/0"
        assert client.ping() is True
        assert client.set("invoice:INV-0001", "issued") is True
        assert client.get("invoice:INV-0001") == b"issued"
        client.close()


def test_server_is_stopped_and_its_folder_deleted_on_exit() -> None:
    with throwaway_redis() as url:
        client = redis.Redis.from_url(url)
        folder = Path(client.config_get("dir")["dir"])
        client.close()
        assert folder.is_dir()
        assert folder.name.startswith("billops-redis-")

    assert not folder.exists()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", _port(url)), timeout=1).close()


def test_two_servers_at_once_get_their_own_port_and_data() -> None:
    with throwaway_redis() as first_url, throwaway_redis() as second_url:
        assert _port(first_url) != _port(second_url)
        first, second = redis.Redis.from_url(first_url), redis.Redis.from_url(second_url)
        first.set("customer:42", "first")
        assert second.get("customer:42") is None
        assert first.get("customer:42") == b"first"
        first.close()
        second.close()
