"""One statistics report: what the Statistics screen, ``triage stats`` and the
CSV, XLSX and PDF writers show, built once in the core.

A ``StatsReport`` holds the lead-indicator table, the other tables in export
order, the period, a title and the small-count suppression in force. The
figures are computed by ``build_report``; ``released(threshold)`` gives the
copy that may leave the app (counts below the threshold shown as ``<N``,
``stats.table.suppress``), which every writer takes as it is: no front end
suppresses or picks tables itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from triage.jobs import Job, job_or_silent
from triage.stats import breaches, em, feedback, lead, service_levels, tasking
from triage.stats.period import Period
from triage.stats.table import StatTable, suppress
from triage.store.db import Database
from triage.users import Action, Actor, require

KINDS = ("tasking", "em", "breaches", "service-levels")


@dataclass(frozen=True)
class StatsReport:
    title: str
    period: Period
    region: str | None
    lead: StatTable
    tables: list[StatTable]
    suppress_below: int = 0  # 0: the figures as computed, for use inside the app

    def all_tables(self) -> list[StatTable]:
        """The lead indicators first, then the rest in export order."""
        return [self.lead, *self.tables]

    def released(self, threshold: int) -> StatsReport:
        """The report fit to pass on: counts below ``threshold`` suppressed."""
        if threshold < 0:
            raise ValueError("the suppression threshold must be 0 or more")
        return replace(
            self,
            lead=suppress(self.lead, threshold),
            tables=[suppress(table, threshold) for table in self.tables],
            suppress_below=threshold,
        )


def build_report(
    db: Database,
    period: Period,
    *,
    title: str,
    actor: Actor,
    kind: str | None = None,
    region: str | None = None,
    job: Job | None = None,
) -> StatsReport:
    """Compute the lead indicators and the tables of ``kind`` ("tasking",
    "em", "breaches", "service-levels", or None for all, as the Statistics
    screen shows them), for an ``actor`` whose role may read the statistics
    (``NotPermitted`` otherwise)."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown statistics kind {kind!r} (known: {', '.join(KINDS)})")
    require(db, actor, Action.READ_STATISTICS)
    job = job_or_silent(job)
    job.progress(0.0, "counting tasking outcomes")
    stats = tasking.compute(db, period, region=region)
    job.check("statistics cancelled")
    job.progress(0.5, "building the tables")
    indicators = lead.lead_indicators(db, stats)
    tables: list[StatTable] = []
    if kind in (None, "tasking"):
        tables += tasking.tables(stats) + feedback.tables(db, stats)
    job.check("statistics cancelled")
    if kind in (None, "em"):
        job.progress(0.8, "EM figures")
        tables += em.tables(db, period, region=region)
    if kind in (None, "breaches"):
        job.progress(0.9, "breach trends")
        tables += breaches.tables(db, period, region=region)
    if kind in (None, "service-levels"):
        # The supplier's figures are national: no region.
        tables += service_levels.tables(db, period)
    job.progress(1.0, "statistics ready")
    return StatsReport(title, period, region, indicators, tables)
