"""The QA report: the satisfactory rate (QS1+QS2) against the 75% target, in
all and by decision kind, region and team, for decisions made in a period.

One ``StatTable`` (like every statistic), so the CLI, the app and the
CSV/XLSX/PDF writers of ``triage.stats`` print the same rows, and small
counts are suppressed as everywhere else (``stats.table.suppress``). A
decision sampled more than once counts once, by its latest review.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, cast

from sqlalchemy import select

from triage.qa.models import QaSampleDecision, QaScore
from triage.qa.scoring import SCORES, TARGET_PCT, satisfactory
from triage.stats.exports import write_csv, write_xlsx
from triage.stats.period import Period
from triage.stats.summary_pdf import write_summary_pdf
from triage.stats.table import Column, StatTable, percent, suppress
from triage.store.db import Database

FORMATS = ("json", "csv", "xlsx", "pdf")
KIND_LABELS = {
    "tasking": "Tasking decision",
    "em_review": "EM review",
    "em_device": "EM device decision",
    "em_escalation": "EM escalation step",
    "em_trail": "EM trail-data request",
}
NOT_RECORDED = "not recorded"
DEFINITION = (
    "Sampled decisions made in the period and scored by a reviewer who did not make them "
    "(003 Annex D, Calibre). QS1: minor errors on less than 20% of the points checked; "
    "QS2: 20% or more; QS3: one or more significant errors; QS4: one or more fail errors, "
    "outcome probably correct; QS5: one or more fail errors with the outcome probably "
    "wrong, or relating to a special policy (safeguarding, security, modern slavery). "
    f"Satisfactory = QS1 + QS2; target at least {TARGET_PCT}%. A decision sampled twice "
    "counts once, by its latest review."
)


class DecisionPeriod(Period):
    """A period of decisions (the statistics' Period names items received)."""

    @property
    def label(self) -> str:
        start = self.start.isoformat() if self.start else "from the first decision"
        return f"decisions made {start} to {self.end.isoformat()}"


@dataclass(frozen=True)
class QaReport:
    table: StatTable
    period: DecisionPeriod
    sampled: int
    scored: int
    suppress_below: int = 0

    @property
    def overall(self) -> dict[str, Any]:
        return self.table.rows[0]

    def released(self, below: int) -> QaReport:
        """Small counts hidden (and the target verdict of a hidden rate)."""
        if below <= 1:
            return self
        hidden = suppress(self.table, below)
        rows = [
            {**row, "target": row["target"] if isinstance(row["satisfactory_pct"], int) else ""}
            for row in hidden.rows
        ]
        return replace(self, table=replace(hidden, rows=rows), suppress_below=below)

    def as_json(self) -> dict[str, Any]:
        return {
            "period": {"from": self.period.start, "to": self.period.end},
            "sampled": self.sampled,
            "scored": self.scored,
            "target_pct": TARGET_PCT,
            "suppress_below": self.suppress_below,
            "rows": self.table.plain_rows(),
            "definition": self.table.definition,
        }


COLUMNS = [
    Column("breakdown", "Breakdown", "text"),
    Column("group", "Group", "text"),
    Column("scored", "Decisions scored"),
    *(Column(f"qs{s}", f"QS{s}") for s in SCORES),
    Column("satisfactory", "Satisfactory (QS1+QS2)"),
    Column("satisfactory_pct", "% satisfactory", "pct", of="satisfactory", per="scored"),
    Column("target", f"Target {TARGET_PCT}% met", "text"),
]


def _row(breakdown: str, group: str, scores: list[int]) -> dict[str, Any]:
    counts = Counter(scores)
    good = sum(1 for s in scores if satisfactory(s))
    pct = percent(good, len(scores))
    return {
        "breakdown": breakdown,
        "group": group,
        "scored": len(scores),
        **{f"qs{s}": counts.get(s, 0) for s in SCORES},
        "satisfactory": good,
        "satisfactory_pct": pct,
        "target": "" if pct is None else ("yes" if pct >= TARGET_PCT else "no"),
    }


def build_report(db: Database, start: date, end: date) -> QaReport:
    """The report of decisions made from ``start`` to ``end`` (UK dates)."""
    with db.sessions() as session:
        rows = session.execute(
            select(QaSampleDecision, QaScore.score)
            .outerjoin(QaScore, QaScore.sample_decision_id == QaSampleDecision.id)
            .where(QaSampleDecision.decided_on >= start, QaSampleDecision.decided_on <= end)
            .order_by(QaSampleDecision.sample_id, QaSampleDecision.id)
        ).all()
    latest: dict[str, tuple[QaSampleDecision, int | None]] = {}
    for decision, stored in rows:
        score = cast("int | None", stored)  # None: not scored (the outer join)
        previous = latest.get(decision.decision_ref)
        # The newest sample's review wins; an unscored later draw keeps the older score.
        if previous is None or score is not None or previous[1] is None:
            latest[decision.decision_ref] = (decision, score)
    scored = [(d, s) for d, s in latest.values() if s is not None]
    table_rows = [_row("All decisions", "All", [s for _, s in scored])]
    groups: list[tuple[str, Any]] = [
        ("Decision kind", lambda d: KIND_LABELS.get(d.kind, d.kind)),
        ("Region", lambda d: d.region or NOT_RECORDED),
        ("Team", lambda d: d.team or NOT_RECORDED),
    ]
    for breakdown, key in groups:
        by: dict[str, list[int]] = {}
        for decision, score in scored:
            by.setdefault(key(decision), []).append(score)
        table_rows += [_row(breakdown, group, by[group]) for group in sorted(by)]
    table = StatTable(
        name="qa_satisfactory",
        title="QA sampling: satisfactory decisions (QS1+QS2) against the target",
        columns=COLUMNS,
        rows=table_rows,
        definition=DEFINITION,
    )
    period = DecisionPeriod(start, end, end)
    return QaReport(table, period, sampled=len(latest), scored=len(scored))


def write_report(report: QaReport, path: Path, file_format: str) -> Path:
    """The report as CSV, XLSX or PDF, through the statistics' safe writers."""
    title = "Triage QA sampling report"
    if file_format == "csv":
        write_csv(report.table, path)
        return path
    if file_format == "xlsx":
        return write_xlsx(
            [report.table], path, period=report.period, title=title,
            suppress_below=report.suppress_below,
        )  # fmt: skip
    if file_format == "pdf":
        return write_summary_pdf(
            path, title=title, period=report.period, lead=report.table, tables=[],
            suppress_below=report.suppress_below,
        )  # fmt: skip
    raise ValueError(f"{path.name}: write the QA report as csv, xlsx or pdf, not {file_format}")
