"""Calibrated synthetic demo data: the public operations.

The generator writes the four canonical extracts of ``shared/formats.md``
(plus a few extension and unknown columns, as real extracts have) and loads
them through the real importer, so a demo database is built exactly the way
a team leader's would be. Everything is drawn from one ``random.Random(seed)``
in a fixed order: the same seed, sizes and end date give the same bytes.

Where the rest lives (the choices are documented in ``docs/demo-data.md``):

* ``calibration``: the published figures it reproduces (NAO Figure 9; EM
  Figures 1-3, 5, 6 and 14), the bucket contract, the learnable harm signal
  (``harm_probability``, never of nationality or gender) and the arithmetic
  that keeps scaled counts exact (``largest_remainder``).
* ``intel_history``: intelligence items and their tasking history, streamed
  to disk (a million items need a few bytes of state each).
* ``em_caseload``: EM cases and events (small enough to build in memory) and
  the EM reviews recorded after the import.
* ``extracts``: the extracts' columns, file names and import order, and how a
  wall-clock time is written as extract text.
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from triage import clock
from triage.demo.calibration import DEFAULT_EM, DEFAULT_INTEL
from triage.demo.em_caseload import EmWriter, record_reviews
from triage.demo.extracts import FILE_NAMES, IMPORT_ORDER
from triage.demo.intel_history import IntelWriter
from triage.jobs import Job, job_or_silent
from triage.users import Actor

if TYPE_CHECKING:  # the store loads only when demo data goes into a database
    from triage.store.db import Database

# --- Results -------------------------------------------------------------------


@dataclass
class DemoFiles:
    """The written extracts and what is in them."""

    folder: Path
    paths: dict[str, Path]
    counts: dict[str, int] = field(default_factory=dict)
    end: date | None = None


@dataclass
class DemoSummary:
    files: DemoFiles
    imported: dict[str, dict[str, int]]
    seconds: float
    reviews: int = 0  # EM reviews recorded in Triage (no extract format carries them)


# --- Public operations ---------------------------------------------------------


def default_end() -> date:
    """Today (UK date) by the one clock, so ``TRIAGE_NOW`` pins demos too."""
    return clock.to_local(clock.now()).date()


def write_demo_files(
    folder: str | Path,
    *,
    seed: int = 7,
    intel: int = DEFAULT_INTEL,
    em: int = DEFAULT_EM,
    end: date | None = None,
) -> DemoFiles:
    """Write the four canonical extracts into ``folder``; deterministic per arguments."""
    if intel < 0 or em < 0:
        raise ValueError("sizes must be zero or more")
    end = end or default_end()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {kind: folder / name for kind, name in FILE_NAMES.items()}
    rng = random.Random(seed)
    em_writer = EmWriter(random.Random(rng.getrandbits(64)), em, end)
    intel_writer = IntelWriter(random.Random(rng.getrandbits(64)), intel, end)
    em_writer.build()
    with (
        open(paths["em-cases"], "w", encoding="utf-8", newline="") as cases,
        open(paths["em-events"], "w", encoding="utf-8", newline="") as events,
    ):
        em_writer.write(cases, events)
    with (
        open(paths["intel"], "w", encoding="utf-8", newline="") as items,
        open(paths["outcomes"], "w", encoding="utf-8", newline="") as outcomes,
    ):
        intel_writer.write(items, outcomes)
    counts = dict(intel_writer.stats)
    counts.update({f"em_{k}": v for k, v in em_writer.stats.items()})
    return DemoFiles(folder, paths, counts, end)


# The demo data is made by Triage, not by a person: its imports are recorded
# under this name (with an officer's right to import), never a user's.
DEMO_LOADER = Actor("triage (demo data)", frozenset({"officer"}))


def load_demo_files(
    db: Database, files: DemoFiles, job: Job | None = None
) -> dict[str, dict[str, int]]:
    """Import the extracts in dependency order through the real importer.

    A cancel between files raises ``Cancelled`` whose ``partial`` is what was
    imported so far (each file is its own transaction)."""
    from triage.imports.importer import import_file  # the importer pulls in the whole schema

    job = job_or_silent(job)
    # Each file's share of the import is its share of the bytes.
    sizes = {kind: max(files.paths[kind].stat().st_size, 1) for kind in IMPORT_ORDER}
    total = sum(sizes.values())
    done = 0
    imported: dict[str, dict[str, int]] = {}
    for kind in IMPORT_ORDER:
        job.check("demo data cancelled", partial=imported)
        part = job.part(done / total, (done + sizes[kind]) / total)
        part.progress(0.0, f"importing {files.paths[kind].name}")
        result = import_file(db, kind, files.paths[kind], job=part, actor=DEMO_LOADER)
        done += sizes[kind]
        imported[kind] = {
            "rows_read": result.rows_read,
            "inserted": result.inserted,
            "updated": result.updated,
            "quarantined": result.quarantined,
            "batch_id": result.batch_id,
        }
    job.progress(1.0, "demo data loaded")
    return imported


def fill_database(
    db: Database,
    *,
    seed: int = 7,
    intel: int = DEFAULT_INTEL,
    em: int = DEFAULT_EM,
    end: date | None = None,
    out: str | Path | None = None,
    job: Job | None = None,
) -> DemoSummary:
    """Generate the demo extracts (into ``out`` or a temporary folder) and import them
    (generation is the first 30% of the job, the import the rest)."""
    import time as timer

    began = timer.perf_counter()
    job = job_or_silent(job)
    job.progress(0.0, "generating demo extracts")
    if out is not None:
        files = write_demo_files(out, seed=seed, intel=intel, em=em, end=end)
        imported = load_demo_files(db, files, job.part(0.3, 1.0))
    else:
        with tempfile.TemporaryDirectory(prefix="triage-demo-") as folder:
            files = write_demo_files(folder, seed=seed, intel=intel, em=em, end=end)
            imported = load_demo_files(db, files, job.part(0.3, 1.0))
    reviews = record_reviews(db, seed=seed, em=em, end=files.end or default_end())
    return DemoSummary(files, imported, timer.perf_counter() - began, reviews)


#: docs/demo-data.md), so the newcomer gets the real thing.
FIRST_RUN_INTEL = DEFAULT_INTEL
FIRST_RUN_EM = DEFAULT_EM


def create_demo_database(
    path: str | Path,
    *,
    seed: int = 7,
    intel: int | None = None,
    em: int | None = None,
    end: date | None = None,
    job: Job | None = None,
) -> DemoSummary:
    """Create (or fill) the database at ``path`` with demo data: the app's first run."""
    from triage.store.db import open_database

    db = open_database(Path(path))
    try:
        return fill_database(
            db,
            seed=seed,
            intel=FIRST_RUN_INTEL if intel is None else intel,
            em=FIRST_RUN_EM if em is None else em,
            end=end,
            job=job,
        )
    finally:
        db.close()


def copy_items(db: Database, items: int) -> int:
    """Grow the demo's intelligence items to ``items`` by copying them (intel
    ids suffixed ``-C1``, ``-C2``, ...), for trying the app, its tests and the
    benchmarks at scale in seconds; the number of items now.

    Copies keep every field but the id, so they rank, filter and count like
    the originals; they have no outcomes. Nothing else is copied."""
    from sqlalchemy import func, insert, select

    from triage.store.models import IntelItem

    columns = IntelItem.__table__.columns
    copied = [c for c in columns if c.name not in ("id", "intel_id")]
    originals = ~IntelItem.intel_id.like("%-C%")
    count = select(func.count()).select_from(IntelItem)
    copy = 0
    with db.transaction() as session:
        have = session.scalar(count) or 0
        while have < items:
            copy += 1
            rows = (
                select(IntelItem.intel_id + f"-C{copy}", *copied)
                .where(originals)
                .order_by(IntelItem.id)
                .limit(items - have)
            )
            session.execute(
                insert(IntelItem).from_select(["intel_id", *(c.name for c in copied)], rows)
            )
            before, have = have, session.scalar(count) or 0
            if have == before:
                break  # nothing to copy: an empty database stays empty
    return have
