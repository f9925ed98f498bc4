"""Encrypted (SQLCipher) against plain SQLite: import and ranking in the same run.

    .venv/bin/python benchmarks/bench_encryption.py [--rows 200000] [--repeat 3]

Writes N canonical intelligence rows (``bench_import.write_csv``), then for a
plain and an encrypted database in turn, each in a fresh process: imports
the file through the real importer and ranks the whole queue
(``ranking.refresh``). Each measure is the best of ``--repeat`` runs, plain
and encrypted alternating so machine load falls on both alike. The plain
database is the baseline; the target is encrypted/plain <= 1.3 for both.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_import import write_csv  # noqa: E402

from triage.users import ALL_ROLES, Actor  # noqa: E402

EVERYONE = Actor("benchmark", ALL_ROLES)

PASSPHRASE = "benchmark passphrase, not a secret"


def child(source: str, db_path: str, encrypted: bool) -> None:
    """Runs in a fresh process: import, then rank; prints both times."""
    from triage.imports.importer import import_file
    from triage.intel import ranking
    from triage.store.db import open_database

    db = open_database(db_path, PASSPHRASE if encrypted else None)
    assert db.encrypted == encrypted
    started = time.perf_counter()
    result = import_file(db, "intel", source, actor=EVERYONE)
    imported = time.perf_counter() - started
    started = time.perf_counter()
    run = ranking.refresh(db)
    ranked = time.perf_counter() - started
    db.close()
    assert result.inserted > 0 and run.items
    print(f"{imported:.3f} {ranked:.3f}")


def measure(source: Path, folder: Path, encrypted: bool, n: int) -> tuple[float, float]:
    db_path = folder / f"{'encrypted' if encrypted else 'plain'}-{n}.sqlite"
    env = dict(os.environ, TRIAGE_HOME=str(folder / "home"))
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(source), str(db_path), str(int(encrypted))],
        check=True, capture_output=True, text=True, env=env,
    ).stdout.split()  # fmt: skip
    return float(out[0]), float(out[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.child[2] == "1")
        return
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        source = folder / "intel.csv"
        write_csv(source, args.rows)
        plain: list[tuple[float, float]] = []
        encrypted: list[tuple[float, float]] = []
        for n in range(args.repeat):
            plain.append(measure(source, folder, False, n))
            encrypted.append(measure(source, folder, True, n))
    plain_import, plain_rank = min(p[0] for p in plain), min(p[1] for p in plain)
    cipher_import, cipher_rank = min(e[0] for e in encrypted), min(e[1] for e in encrypted)
    print(f"rows: {args.rows:,}; best of {args.repeat}; load average {os.getloadavg()[0]:.1f}")
    print(f"import  plain {plain_import:6.2f} s  encrypted {cipher_import:6.2f} s")
    print(f"ranking plain {plain_rank:6.2f} s  encrypted {cipher_rank:6.2f} s")
    print(f"ratio import encrypted/plain: {cipher_import / plain_import:.2f} (target <= 1.30)")
    print(f"ratio ranking encrypted/plain: {cipher_rank / plain_rank:.2f} (target <= 1.30)")


if __name__ == "__main__":
    main()
