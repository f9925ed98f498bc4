"""Two imports at once into one database both land (SQLite: the second waits
for the first's write lock; PostgreSQL: side by side), audit chain intact."""

from __future__ import annotations

import threading

from actors import as_user
from sqlalchemy import func, select
from test_import import INTEL_HEADER, write

from triage.imports.importer import import_file
from triage.store import audit
from triage.store.models import ImportBatch, IntelItem


def extract(tmp_path, prefix: str, n: int = 300):
    rows = [f"{prefix}-{i},2026-07-01T10:00:00,LSE,London North,public,,,,,,,,,,,,,,item {i}"
            for i in range(n)]  # fmt: skip
    return write(tmp_path / f"{prefix}.csv", "\n".join((INTEL_HEADER, *rows)) + "\n")


def test_two_imports_at_once_both_land(db, tmp_path):
    files = {"ana": extract(tmp_path, "A"), "ben": extract(tmp_path, "B")}
    start = threading.Barrier(2)
    results, errors = {}, []

    def run(name: str) -> None:
        start.wait()
        try:
            results[name] = import_file(db, "intel", files[name], actor=as_user(name))
        except Exception as error:  # shown by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(name,)) for name in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [results[name].inserted for name in files] == [300, 300]
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(IntelItem)) == 600
        assert session.scalar(select(func.count()).select_from(ImportBatch)) == 2
    with db.engine.connect() as connection:
        assert audit.verify(connection).ok
