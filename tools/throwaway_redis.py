"""Start a throwaway Redis server, run a command against it, and stop it.

    python tools/throwaway_redis.py -- pytest tests/

The command runs with BILLOPS_REDIS_URL pointing at the new server. Debian's `redis-server` package is
installed with apt-get when the binary is missing; a system service it may start is never used, since
the server here runs on its own free loopback port. Nothing is kept: persistence is off and the working
folder is a temporary directory (the server's `CONFIG GET dir` names it while it runs).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn


def _fail(message: str) -> NoReturn:
    print(f"throwaway_redis: {message}", file=sys.stderr)
    raise SystemExit(2)


def _ensure_installed() -> str:
    found = shutil.which("redis-server")
    if found is None:
        if os.geteuid() != 0:
            _fail("redis-server is not installed and this user cannot apt-get install it; install it first")
        print("throwaway_redis: installing Debian's redis-server package…", file=sys.stderr)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "redis-server"]
        result = subprocess.run(install, env=env, check=False)
        found = shutil.which("redis-server")
        if result.returncode != 0 or found is None:
            _fail("apt-get install redis-server failed; Redis tests cannot run")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def throwaway_redis() -> Iterator[str]:
    """Yield the URL of a fresh server on a free loopback port; stop it and delete its folder afterwards."""
    binary = _ensure_installed()
    workdir = Path(tempfile.mkdtemp(prefix="billops-redis-"))
    log_path = workdir / "log"
    port = _free_port()
    command = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
               "--dir", str(workdir), "--daemonize", "no"]  # fmt: skip
    server: subprocess.Popen[bytes] | None = None
    try:
        with log_path.open("wb") as log:
            server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not _answers_ping(port):
            if server.poll() is not None:
                _fail(f"redis-server exited with code {server.returncode}:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                _fail(f"redis-server did not answer PING on port {port} within 10 s:\n{log_path.read_text()}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str]) -> int:
    if "--" not in argv:
        _fail("usage: throwaway_redis.py -- COMMAND [ARGS…]")
    command = argv[argv.index("--") + 1 :]
    with throwaway_redis() as url:
        print(f"throwaway_redis: Redis at {url}", file=sys.stderr)
        return subprocess.run(command, env={**os.environ, "BILLOPS_REDIS_URL": url}, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
