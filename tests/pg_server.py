"""A throwaway PostgreSQL server for the PostgreSQL test run and the team-store benchmark.

Started from Debian's ``postgresql`` package (``./run setup`` installs it
where missing): ``initdb`` into a temporary folder, ``postgres`` on a free
port on 127.0.0.1 only, trust authentication for local test logins, removed
by ``stop()``. Run as root, the server runs as the ``postgres`` user (the
server refuses to run as root).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


class NoPostgres(RuntimeError):
    """PostgreSQL's server programs are not installed here."""


def server_bin() -> Path:
    """The newest installed ``/usr/lib/postgresql/N/bin`` (or $TRIAGE_PG_BIN)."""
    override = os.environ.get("TRIAGE_PG_BIN")
    if override:
        return Path(override)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if not found:
        found = [p for p in [shutil.which("initdb")] if p]
    if not found:
        raise NoPostgres(
            "PostgreSQL is not installed: run ./run setup (apt-get install postgresql)"
        )
    return Path(found[-1]).parent


def _version(initdb: str) -> int:
    try:
        return int(Path(initdb).parent.parent.name)
    except ValueError:
        return 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    folder: Path
    port: int
    bin: Path
    run_as: str | None  # "postgres" when we are root
    superuser: str

    def url(self, database: str = "postgres", user: str | None = None) -> str:
        who = user or self.superuser
        return f"postgresql+psycopg://{who}@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run ``sql`` as the superuser (autocommit: CREATE DATABASE works)."""
        import psycopg

        conninfo = f"host=127.0.0.1 port={self.port} user={self.superuser} dbname={database}"
        with psycopg.connect(conninfo, autocommit=True) as connection:
            cursor = connection.execute(sql)  # type: ignore[arg-type]
            rows = cursor.fetchall() if cursor.description else []
        return "\n".join("|".join(str(v) for v in row) for row in rows)

    def stop(self) -> None:
        _run(self, [str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate",
                    "stop"], check=False)  # fmt: skip
        shutil.rmtree(self.folder, ignore_errors=True)


def _run(server: Server | None, args: list[str], run_as: str | None = None,
         check: bool = True) -> subprocess.CompletedProcess[str]:  # fmt: skip
    user = run_as if server is None else server.run_as
    if user:
        # runuser keeps our environment out; the server's folder is its own.
        args = ["runuser", "-u", user, "--", *args]
    return subprocess.run(args, check=check, capture_output=True, text=True, timeout=120)


def start(parent: Path | None = None) -> Server:
    """A new server, running, ready for connections."""
    bin_dir = server_bin()
    run_as = "postgres" if os.geteuid() == 0 else None
    superuser = run_as or pwd.getpwuid(os.geteuid()).pw_name
    folder = Path(tempfile.mkdtemp(prefix="triage-pg-", dir=parent))
    if run_as:
        os.chmod(folder, 0o755)
        shutil.chown(folder, run_as)
    data = folder / "data"
    _run(None, [str(bin_dir / "initdb"), "-D", str(data), "-U", superuser, "-A", "trust",
                "-E", "UTF8", "--locale=C", "--no-sync"], run_as=run_as)  # fmt: skip
    # The superuser (the tests' own login) by trust; every other login by
    # password over TCP, so wrong credentials can be tried.
    (data / "pg_hba.conf").write_text(
        f"local all {superuser} trust\nhost all {superuser} 127.0.0.1/32 trust\n"
        "host all all 127.0.0.1/32 scram-sha-256\n",
        encoding="ascii",
    )
    port = free_port()
    server = Server(folder, port, bin_dir, run_as, superuser)
    # Throwaway data: no fsync, no full pages; the socket in our folder, TCP on loopback only.
    options = (
        f"-p {port} -h 127.0.0.1 -k {folder} -F -c full_page_writes=off "
        "-c synchronous_commit=off -c max_connections=200 -c shared_buffers=64MB"
    )
    _run(server, [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-t", "60",
                  "-l", str(folder / "server.log"), "start"])  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            server.psql("SELECT 1")
            return server
        except Exception:
            if time.monotonic() > deadline:
                server.stop()
                raise
            time.sleep(0.1)


if __name__ == "__main__":  # a server for trying things by hand: prints its URL
    running = start()
    print(running.url(), running.folder, flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        running.stop()
