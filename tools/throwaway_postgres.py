"""Start a throwaway PostgreSQL cluster, run a command against it, and remove it.

    python tools/throwaway_postgres.py -- pytest tests/

The command runs with BILLOPS_DATABASE_URL pointing at the new cluster. Debian's `postgresql` package
is installed with apt-get when its binaries are missing. As root, the cluster runs as the `postgres`
system user (initdb refuses root). Nothing is left behind: the data folder is a temporary directory.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


def _fail(message: str) -> None:
    print(f"throwaway_postgres: {message}", file=sys.stderr)
    raise SystemExit(2)


def _bin_dir() -> Path | None:
    root = Path("/usr/lib/postgresql")
    versions = sorted(
        (p for p in root.glob("*/bin") if (p / "initdb").exists()), key=lambda p: int(p.parent.name)
    )
    return versions[-1] if versions else None


def _ensure_installed() -> Path:
    found = _bin_dir()
    if found is None:
        if os.geteuid() != 0:
            _fail("PostgreSQL is not installed and this user cannot apt-get install it; install `postgresql`")
        print("throwaway_postgres: installing Debian's postgresql package…", file=sys.stderr)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        result = subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql"], env=env, check=False)
        found = _bin_dir()
        if result.returncode != 0 or found is None:
            _fail("apt-get install postgresql failed; PostgreSQL tests cannot run")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Yield the URL of a fresh cluster on a free loopback port; stop and delete it afterwards."""
    bin_dir = _ensure_installed()
    as_root = os.geteuid() == 0
    workdir = Path(tempfile.mkdtemp(prefix="billops-pg-"))
    data, sockets = workdir / "data", workdir / "sock"
    sockets.mkdir()
    if as_root:
        owner = pwd.getpwnam("postgres")
        for path in (workdir, sockets):
            os.chown(path, owner.pw_uid, owner.pw_gid)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = ["runuser", "-u", "postgres", "--", *args] if as_root else list(args)
        return subprocess.run(cmd, capture_output=True, text=True, check=False)

    port = _free_port()
    init = run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
               "--locale=C.UTF-8", "--no-sync")  # fmt: skip
    if init.returncode != 0:
        _fail(f"initdb failed:\n{init.stderr}")
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={sockets} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    start = run(
        str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(workdir / "log"), "-w", "start"
    )
    if start.returncode != 0:
        log = (workdir / "log").read_text() if (workdir / "log").exists() else ""
        _fail(f"PostgreSQL did not start:\n{start.stderr}\n{log}")
    try:
        deadline = time.monotonic() + 30
        while run(str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)).returncode != 0:
            if time.monotonic() > deadline:
                _fail("PostgreSQL started but does not accept connections")
            time.sleep(0.2)
        run(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "billops")
        yield f"postgresql://postgres@127.0.0.1:{port}/billops"
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str]) -> int:
    if "--" not in argv:
        _fail("usage: throwaway_postgres.py -- COMMAND [ARGS…]")
    command = argv[argv.index("--") + 1 :]
    with throwaway_cluster() as url:
        print(f"throwaway_postgres: PostgreSQL at {url}", file=sys.stderr)
        return subprocess.run(
            command, env={**os.environ, "BILLOPS_DATABASE_URL": url}, check=False
        ).returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
