"""Benchmark: the EM caseload on the calibrated demo data.

    .venv/bin/python benchmarks/bench_em.py [--em 1732] [--seed 7]

Builds a temporary demo database (``triage.demo.generator``: EM Figures 1, 6 and 14
exact at the default size; a token 60 intelligence items), then prints, in
the same run:

1. battery breach reports: raw notifications (the baseline: one report per
   notification, as the Hub received them) against consolidated reports
   (12 hours in a rolling 7 days), and the saving (Inspectorate estimate 75%);
2. consolidation time set-based (one query, every case) against the baseline
   of one query per case;
3. building the whole ranked EM queue, and one case's explanation;
4. the review backlog the queue finds (EM report Figure 14: 818 of 1,622).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TRIAGE_NOW", "2026-11-20T09:00:00")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--em", type=int, default=1732)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-em-") as folder:
        os.environ["TRIAGE_HOME"] = folder
        from sqlalchemy import select

        from triage.demo.generator import fill_database
        from triage.em.battery import battery_saving, battery_with_pack
        from triage.em.escalation import apply_escalations
        from triage.em.explain import explain_case
        from triage.em.pack import default_pack
        from triage.em.queue import build_queue
        from triage.store.db import open_database
        from triage.store.models import EmCase

        pack = default_pack()
        db = open_database(Path(folder) / "demo.sqlite")
        began = time.perf_counter()
        fill_database(db, seed=args.seed, intel=60, em=args.em)
        print(f"demo data: {args.em} EM cases in {time.perf_counter() - began:.2f} s")

        with db.transaction() as session:
            saving = battery_saving(session)
        print(
            f"battery reports: raw {saving.raw_events} (baseline), consolidated "
            f"{saving.consolidated_reports}, saved {saving.saved} = {saving.saving_ratio:.1%} "
            f"(ratio consolidated/raw {saving.consolidated_reports / saving.raw_events:.3f}; "
            "Inspectorate estimate 75% saved)"
        )

        with db.transaction() as session:
            cases = list(session.execute(select(EmCase.case_id)).scalars())
            t0 = time.perf_counter()
            battery_with_pack(session, pack)
            set_based = time.perf_counter() - t0
            t0 = time.perf_counter()
            for case_id in cases:
                battery_with_pack(session, pack, [case_id])
            per_case = time.perf_counter() - t0
        print(
            f"consolidation: set-based {set_based * 1000:.1f} ms, one query per case "
            f"(baseline) {per_case * 1000:.1f} ms, ratio {set_based / per_case:.3f}"
        )

        apply_escalations(db, pack=pack)
        with db.transaction() as session:
            t0 = time.perf_counter()
            queue = build_queue(session, pack=pack)
            build = time.perf_counter() - t0
        first = queue.items[0].case_id
        t0 = time.perf_counter()
        explain_case(db, first, pack=pack)
        explain = time.perf_counter() - t0
        overdue_reviews = sum(
            1 for i in queue.items if i.workstream == "reviews" and i.due_state == "overdue"
        )
        print(
            f"queue: {len(queue.items)} work items built in {build * 1000:.0f} ms; "
            f"explain {first} in {explain * 1000:.0f} ms"
        )
        print(f"overdue reviews found: {overdue_reviews} (EM report Figure 14: 818 of 1,622)")
        db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
