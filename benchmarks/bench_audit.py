"""Benchmark: the hash-chained audit log (issue 16.4).

Writes N audit entries in one transaction through ``audit.record_many`` (each
chained inside its INSERT by ``triage_audit_hash``) and, as the baseline in
the same run, the same entries by a plain ORM executemany without the chain
(what the log cost before). Then times ``audit.verify`` over the chain.

    .venv/bin/python benchmarks/bench_audit.py [--entries 50000]

The last lines are the figures.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from triage import clock
from triage.store import audit
from triage.store.db import open_database
from triage.store.models import AuditEntry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=50_000)
    n = parser.parse_args().entries
    rows: list[dict[str, Any]] = [
        {"who": "bench", "action": "import.update", "entity": "intel_item",
         "entity_id": f"I{i}", "field": "summary", "old": "a" * 40, "new": "b" * 40}
        for i in range(n)
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="triage-bench-audit-") as folder:
        os.environ["TRIAGE_HOME"] = folder
        chained_db = open_database(Path(folder) / "chained.sqlite")
        started = time.perf_counter()
        with chained_db.transaction() as session:
            audit.record_many(session, rows)
        chained = time.perf_counter() - started

        plain_db = open_database(Path(folder) / "plain.sqlite")
        now = clock.now()
        plain = [
            {"at": now, "who": r["who"], "action": r["action"], "entity": r["entity"],
             "entity_id": r["entity_id"], "field": r["field"], "old_value": r["old"],
             "new_value": r["new"]}
            for r in rows
        ]  # fmt: skip
        started = time.perf_counter()
        with plain_db.transaction() as session:
            session.execute(insert(AuditEntry), plain)
        unchained = time.perf_counter() - started

        with chained_db.engine.connect() as connection:
            started = time.perf_counter()
            result = audit.verify(connection)
            verified = time.perf_counter() - started
        chained_db.close()
        plain_db.close()
    assert result.ok and result.entries == n
    print(f"load average {os.getloadavg()[0]:.1f}")
    print(f"{n:,} entries written, chained:   {chained:.2f} s ({chained / n * 1e6:.0f} us each)")
    print(f"{n:,} entries written, unchained: {unchained:.2f} s (baseline)")
    print(f"ratio chained / unchained: {chained / unchained:.2f}")
    print(f"verify {n:,} entries: {verified:.2f} s")


if __name__ == "__main__":
    main()
