"""The figures of the governance pack, each computed from the stored data.

- ``tasking_concordance``: each accept/reject decision against what the tool
  put in front of the meeting: above the capacity line (recommended for
  tasking) or below it, for meetings run in Triage (the frozen agenda);
- ``bucket_concordance``: every recorded decision (imported history too)
  against the priority group of the item (buckets 1-4 high, 5-6 low);
- ``em_concordance``: EM device recommendations against the caseworker's
  decision (``overridden``), by recommended device;
- ``acceptance_by_region_bucket``: items received in the period by their
  latest decision, per region and bucket (the statistics' cube);
- ``protected_tables``: decisions by each protected characteristic the
  store records (Equality Act 2010 list), the rest named "not recorded";
- ``cadence``: when the rule packs, the model and QA sampling were last
  changed or run, and how often.

Each table is a ``StatTable``, so small counts are suppressed (``released``)
the same way as every statistic.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime
from statistics import mean
from typing import Any

from sqlalchemy import Column as SqlColumn
from sqlalchemy import Date, DateTime, and_, func, select
from sqlalchemy.orm import Session

from triage import clock, vocab
from triage.em.models import EmRecommendation
from triage.harm.registry import all_models
from triage.intel.models import IntelRank
from triage.meetings.models import MeetingAgendaItem
from triage.qa.models import QaSample, QaSampleDecision, QaScore
from triage.stats import tasking
from triage.stats.period import Period
from triage.stats.table import Column, StatTable, percent
from triage.store.models import EmCase, IntelItem, TaskingMeeting, TaskingOutcome

# Equality Act 2010 protected characteristics, and the stored columns that
# would record each (nationality and ethnic origin are part of race).
# Breakdowns by them are suppressed at PROTECTED_SUPPRESS_BELOW at least,
# whatever the pack's own threshold: they describe people by who they are.
PROTECTED = {
    "age": ("age", "age_band", "date_of_birth", "dob"),
    "disability": ("disability",),
    "gender reassignment": ("gender_reassignment",),
    "marriage and civil partnership": ("marital_status", "civil_partnership"),
    "pregnancy and maternity": ("pregnancy", "maternity"),
    "race": ("ethnicity", "ethnic_origin", "race", "nationality"),
    "religion or belief": ("religion", "belief"),
    "sex": ("sex", "gender"),
    "sexual orientation": ("sexual_orientation",),
}
NOT_RECORDED = "not recorded"
PROTECTED_SUPPRESS_BELOW = 10
AGE_BANDS = ((0, 17), (18, 24), (25, 34), (35, 49), (50, 64), (65, None))


def _concordance_columns(first: tuple[str, str]) -> list[Column]:
    return [
        Column(first[0], first[1], "text"),
        Column("accepted", "Accepted"),
        Column("rejected", "Rejected"),
        Column("decided", "Decided (accepted or rejected)"),
        Column("concordant", "As recommended"),
        Column("overridden", "Overridden"),
        Column("concordant_pct", "% as recommended", "pct", of="concordant", per="decided"),
        Column("overridden_pct", "% overridden", "pct", of="overridden", per="decided"),
    ]


def _concordance_row(label_key: str, label: str, accepted: int, rejected: int,
                     recommended: bool | None) -> dict[str, Any]:  # fmt: skip
    decided = accepted + rejected
    concordant = accepted if recommended else rejected
    return {
        label_key: label,
        "accepted": accepted,
        "rejected": rejected,
        "decided": decided,
        "concordant": concordant,
        "overridden": decided - concordant,
        "concordant_pct": percent(concordant, decided),
        "overridden_pct": percent(decided - concordant, decided),
    }


def _total(rows: list[dict[str, Any]], label_key: str) -> dict[str, Any]:
    total = {k: sum(r[k] for r in rows) for k in ("accepted", "rejected", "decided", "concordant")}
    overridden = total["decided"] - total["concordant"]
    return {
        label_key: "All",
        **total,
        "overridden": overridden,
        "concordant_pct": percent(total["concordant"], total["decided"]),
        "overridden_pct": percent(overridden, total["decided"]),
    }


def tasking_concordance(session: Session, start: date, end: date) -> StatTable:
    counts = Counter(
        (fits, decision)
        for fits, decision in session.execute(
            select(MeetingAgendaItem.fits, TaskingOutcome.decision)
            .join(
                MeetingAgendaItem,
                and_(
                    MeetingAgendaItem.meeting_id == TaskingOutcome.meeting_id,
                    MeetingAgendaItem.item_id == TaskingOutcome.item_id,
                ),
            )
            .where(TaskingOutcome.meeting_date >= start, TaskingOutcome.meeting_date <= end)
        )
    )
    rows = [
        _concordance_row(
            "line", label, counts[(fits, "accepted")], counts[(fits, "rejected")], fits
        )
        for fits, label in (
            (True, "Above the capacity line (recommended for tasking)"),
            (False, "Below the capacity line (not recommended this meeting)"),
        )
    ]
    rows.append(_total(rows, "line"))
    return StatTable(
        "tasking_concordance",
        "Tasking: the ranked agenda's recommendation against the meeting's decision",
        _concordance_columns(("line", "Where the item stood on the agenda")),
        rows,
        "Decisions at meetings run in Triage in the period (meeting dates), each against the "
        "agenda frozen when the meeting started. As recommended: accepted above the capacity "
        "line, or rejected below it; overridden: rejected above it, or accepted below it. "
        "Not discussed is no decision and is left out.",
    )


def bucket_concordance(session: Session, start: date, end: date) -> StatTable:
    bucket = func.coalesce(MeetingAgendaItem.bucket, IntelRank.bucket, IntelItem.upstream_bucket)
    counts: Counter[tuple[str, str]] = Counter()
    for found, decision, n in session.execute(
        select(bucket, TaskingOutcome.decision, func.count())
        .join(IntelItem, IntelItem.id == TaskingOutcome.item_id)
        .outerjoin(IntelRank, IntelRank.item_id == TaskingOutcome.item_id)
        .outerjoin(
            MeetingAgendaItem,
            and_(
                MeetingAgendaItem.meeting_id == TaskingOutcome.meeting_id,
                MeetingAgendaItem.item_id == TaskingOutcome.item_id,
            ),
        )
        .where(
            TaskingOutcome.meeting_date >= start,
            TaskingOutcome.meeting_date <= end,
            TaskingOutcome.decision.in_(("accepted", "rejected")),
        )
        .group_by(bucket, TaskingOutcome.decision)
    ):
        counts[(tasking.group_of(found), decision)] += n
    rows = [
        _concordance_row(
            "group",
            label,
            counts[(group, "accepted")],
            counts[(group, "rejected")],
            group == "high",
        )  # fmt: skip
        for group, label in (
            ("high", "High priority (buckets 1-4): recommended"),
            ("low", "Low priority (buckets 5-6): not recommended"),
        )
    ]
    rows.append(_total(rows, "group"))
    unbucketed = counts[("unbucketed", "accepted")] + counts[("unbucketed", "rejected")]
    return StatTable(
        "bucket_concordance",
        "Tasking: the priority bucket against the decision (all recorded decisions)",
        _concordance_columns(("group", "Priority group")),
        rows,
        "Every accept or reject decision with a meeting date in the period, imported history "
        "included, against the item's bucket (the agenda's when decided at a Triage meeting, "
        "else the current ranking, else the bucket given upstream). As recommended: a high "
        "priority item accepted or a low priority one rejected."
        + (
            f" {unbucketed:,} decision(s) on items with no bucket are left out."
            if unbucketed
            else ""
        ),
    )


def _em_decisions(session: Session, start: date, end: date) -> list[Any]:
    first = clock.start_of_local_day(start)
    after = clock.start_of_local_day(date.fromordinal(end.toordinal() + 1))
    return list(
        session.execute(
            select(EmRecommendation, EmCase)
            .outerjoin(EmCase, EmCase.case_id == EmRecommendation.case_id)
            .where(EmRecommendation.decided_at >= first, EmRecommendation.decided_at < after)
        )
    )


EM_COLUMNS = [
    Column("recommended", "Recommended", "text"),
    Column("decided", "Decided"),
    Column("concordant", "As recommended"),
    Column("overridden", "Overridden"),
    Column("concordant_pct", "% as recommended", "pct", of="concordant", per="decided"),
    Column("overridden_pct", "% overridden", "pct", of="overridden", per="decided"),
]


def _em_row(label: str, found: list[Any]) -> dict[str, Any]:
    overridden = sum(1 for r, _ in found if r.overridden)
    decided = len(found)
    return {
        "recommended": label,
        "decided": decided,
        "concordant": decided - overridden,
        "overridden": overridden,
        "concordant_pct": percent(decided - overridden, decided),
        "overridden_pct": percent(overridden, decided),
    }


def _em_advice(recommendation: EmRecommendation) -> str:
    if not recommendation.em:
        return "No EM"
    return f"EM, {recommendation.device.replace('_', ' ')} device"


def em_concordance(session: Session, start: date, end: date) -> StatTable:
    found = _em_decisions(session, start, end)
    by: dict[str, list[Any]] = defaultdict(list)
    for pair in found:
        by[_em_advice(pair[0])].append(pair)
    rows = [_em_row(label, by[label]) for label in sorted(by)] + [_em_row("All", found)]
    return StatTable(
        "em_concordance",
        "EM: the device recommendation against the caseworker's decision",
        EM_COLUMNS,
        rows,
        "EM recommendations decided in the period (UK dates). Overridden: the caseworker "
        "decided otherwise than the advice (EM or not, device or minimum period), with a "
        "recorded reason.",
    )


def acceptance_by_region_bucket(stats: tasking.TaskingStats) -> StatTable:
    tallies = tasking.tally(stats.cube, lambda row: (row.region, row.bucket))
    rows = []
    for code in tasking.region_order({region for region, _ in tallies}):
        for bucket in sorted({b for r, b in tallies if r == code}, key=lambda b: (b is None, b)):
            counted = tallies[(code, bucket)]
            rows.append(
                {
                    "region": tasking.region_name(code),
                    "bucket": "none" if bucket is None else str(bucket),
                    "received": counted.received,
                    "accepted": counted.accepted,
                    "rejected": counted.rejected,
                    "not_discussed": counted.not_discussed,
                    "accepted_pct": percent(counted.accepted, counted.received),
                }
            )
    return StatTable(
        "acceptance_region_bucket",
        "Acceptance by region and bucket",
        [
            Column("region", "Region", "text"),
            Column("bucket", "Bucket", "text"),
            Column("received", "Items received"),
            Column("accepted", "Accepted"),
            Column("rejected", "Rejected"),
            Column("not_discussed", "Not discussed"),
            Column("accepted_pct", "% accepted", "pct", of="accepted", per="received"),
        ],
        rows,
        "Items received in the period by their latest decision as of its last day, as in "
        "the statistics (docs/statistics.md); bucket as ranked, else as given upstream.",
    )


# -- protected characteristics ---------------------------------------------------------


def recorded_columns(table: Any) -> dict[str, list[SqlColumn[Any]]]:
    """Characteristic -> the columns of ``table`` that record it."""
    names = {c.name: c for c in table.columns}
    return {
        characteristic: [names[n] for n in candidates if n in names]
        for characteristic, candidates in PROTECTED.items()
        if any(n in names for n in candidates)
    }


def _age_band(born: Any, on: date) -> str:
    if not isinstance(born, date):
        return NOT_RECORDED
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    for low, high in AGE_BANDS:
        if high is None or years <= high:
            return f"{low}+" if high is None else f"{low}-{high}"
    return NOT_RECORDED


def _value_of(column: SqlColumn[Any], value: Any, on: date) -> str:
    if isinstance(column.type, Date | DateTime):
        return _age_band(value.date() if isinstance(value, datetime) else value, on)
    if value is None or value == "":
        return NOT_RECORDED
    return str(value)


PROTECTED_COLUMNS = [
    Column("characteristic", "Characteristic (column)", "text"),
    Column("value", "Recorded value", "text"),
    Column("decided", "Decisions"),
    Column("positive", "Accepted / EM imposed"),
    Column("positive_pct", "% accepted / EM imposed", "pct", of="positive", per="decided"),
    Column("overridden", "Overridden"),
    Column("overridden_pct", "% overridden", "pct", of="overridden", per="decided"),
]


def _protected_rows(
    label: str,
    column: SqlColumn[Any],
    decisions: Iterable[tuple[Any, bool, bool | None, date]],
) -> list[dict[str, Any]]:
    groups: dict[str, list[tuple[bool, bool | None]]] = defaultdict(list)
    for value, accepted, override, on in decisions:
        groups[_value_of(column, value, on)].append((accepted, override))
    rows = []
    for value in sorted(groups, key=lambda v: (v == NOT_RECORDED, v)):
        found = groups[value]
        positive = sum(1 for p, _ in found if p)
        known = [o for _, o in found if o is not None]
        overridden = sum(1 for o in known if o)  # None: not a question (tasking)
        rows.append(
            {
                "characteristic": f"{label} ({column.name})",
                "value": value,
                "decided": len(found),
                "positive": positive,
                "positive_pct": percent(positive, len(found)),
                "overridden": overridden if known else None,
                "overridden_pct": percent(overridden, len(known)) if known else None,
            }
        )
    return rows


def _characteristic_rows(
    recorded: dict[str, list[SqlColumn[Any]]],
    seen: set[str],
    decisions: Callable[[SqlColumn[Any]], Iterable[tuple[Any, bool, bool | None, date]]],
) -> list[dict[str, Any]]:
    """``_protected_rows`` for every column that records a characteristic,
    each column's decisions from ``decisions``; the characteristics go into ``seen``."""
    rows = []
    for label, columns in recorded.items():
        seen.add(label)
        for column in columns:
            rows += _protected_rows(label, column, decisions(column))
    return rows


def _em_decided(
    found: list[Any], value: Callable[[EmCase | None], Any]
) -> Iterable[tuple[Any, bool, bool, date]]:
    """The EM decisions as ``_protected_rows`` reads them, the case's value from ``value``."""
    return (
        (value(case), bool(r.decided_em), bool(r.overridden), clock.to_local(r.decided_at).date())
        for r, case in found
    )


def protected_tables(session: Session, start: date, end: date) -> tuple[list[StatTable], list[str]]:
    """Decisions by each recorded protected characteristic, and the names of
    those recorded nowhere."""
    tables: list[StatTable] = []
    seen: set[str] = set()
    intel = recorded_columns(IntelItem.__table__)
    if intel:
        outcomes = session.execute(
            select(IntelItem, TaskingOutcome.decision, TaskingOutcome.meeting_date)
            .join(TaskingOutcome, TaskingOutcome.item_id == IntelItem.id)
            .where(
                TaskingOutcome.meeting_date >= start,
                TaskingOutcome.meeting_date <= end,
                TaskingOutcome.decision.in_(("accepted", "rejected")),
            )
        ).all()
        rows = _characteristic_rows(
            intel,
            seen,
            lambda column: (
                (getattr(i, column.key), d == "accepted", None, day) for i, d, day in outcomes
            ),
        )
        tables.append(
            StatTable(
                "protected_tasking",
                "Tasking decisions by protected characteristic (where recorded on the item)",
                PROTECTED_COLUMNS,
                rows,
                "Accept or reject decisions with a meeting date in the period, by the value "
                "recorded on the item. These characteristics are never inputs to the harm "
                "model (refused by name); nationality is read by the rules only for the "
                "returns arrangement of the country.",
            )
        )
    em_columns = recorded_columns(EmCase.__table__)
    found = _em_decisions(session, start, end)
    rows = _characteristic_rows(
        em_columns,
        seen,
        lambda column: _em_decided(found, lambda case: getattr(case, column.key) if case else None),
    )
    # Disability recorded as a vulnerability of the case (vocab.VULNERABILITIES).
    if "disability" in vocab.VULNERABILITIES:
        seen.add("disability")
        flagged = SqlColumn("vulnerabilities", type_=EmCase.__table__.c.vulnerabilities.type)
        rows += _protected_rows(
            "disability",
            flagged,
            _em_decided(
                found,
                lambda case: (
                    "recorded"
                    if case and "disability" in vocab.split_list(case.vulnerabilities)
                    else "not recorded"
                ),
            ),
        )
    tables.append(
        StatTable(
            "protected_em",
            "EM decisions by protected characteristic (where recorded on the case)",
            PROTECTED_COLUMNS,
            rows,
            "EM recommendations decided in the period, by the value recorded on the case: "
            "how many had EM imposed and how many decisions overrode the advice.",
        )
    )
    missing = [label for label in PROTECTED if label not in seen]
    return tables, missing


# -- review cadence --------------------------------------------------------------------


def _days_between(moments: list[date]) -> float | None:
    ordered = sorted(moments)
    gaps = [(b - a).days for a, b in zip(ordered, ordered[1:], strict=False)]
    return round(mean(gaps), 1) if gaps else None


def cadence(session: Session, today: date, intel_version: str, em_version: str,
            em_review_months: int) -> StatTable:  # fmt: skip
    """When each thing under review last changed or ran, and how often."""
    rows: list[dict[str, Any]] = []

    def add(what: str, moments: list[date], note: str) -> None:
        last = max(moments) if moments else None
        rows.append(
            {
                "what": what,
                "times": len(moments),
                "first": min(moments).isoformat() if moments else None,
                "last": last.isoformat() if last else None,
                "days_since": (today - last).days if last else None,
                "mean_days_between": _days_between(moments),
                "note": note,
            }
        )

    versions = session.execute(
        select(TaskingMeeting.rules_version, func.min(TaskingMeeting.held_on))
        .where(TaskingMeeting.rules_version.is_not(None))
        .group_by(TaskingMeeting.rules_version)
    ).all()
    current = next((first for v, first in versions if v == intel_version), None)
    add(
        "Intelligence rule pack: a new version first used at a meeting",
        [first for _, first in versions],
        f"in force: {intel_version[:12]}"
        + (f", first used {current}" if current else ", not yet used at a meeting"),
    )
    add("EM rule pack", [], f"in force: {em_version[:12]} (changes are not dated in the store)")
    models = all_models(session)
    active = next((m for m in models if m.active), None)
    add(
        "Harm model: trained and registered",
        [clock.to_local(m.created_at).date() for m in models],
        f"active: {active.id}, activated {clock.to_local(active.activated_at).date()}"
        if active and active.activated_at
        else "no model active: the rules alone order the queue",
    )
    draws = session.execute(select(QaSample.drawn_at)).scalars().all()
    scored = session.execute(select(QaScore.scored_at)).scalars().all()
    add(
        "QA sample drawn", [clock.to_local(d).date() for d in draws], "003 Annex A: 2% of decisions"
    )
    add("QA review scored", [clock.to_local(d).date() for d in scored], "")
    rows.append(
        {
            "what": "EM case review (each case)",
            "times": None,
            "first": None,
            "last": None,
            "days_since": None,
            "mean_days_between": None,
            "note": f"every {em_review_months} months (EM rule pack)",
        }
    )
    return StatTable(
        "review_cadence",
        "Review cadence",
        [
            Column("what", "What is reviewed or changed", "text"),
            Column("times", "Times", "number"),
            Column("first", "First", "text"),
            Column("last", "Latest", "text"),
            Column("days_since", "Days since", "number"),
            Column("mean_days_between", "Mean days between", "number"),
            Column("note", "In force", "text"),
        ],
        rows,
        "From the store: the meetings' recorded rule-pack versions, the model registry and "
        "the QA samples and scores; all dates UK. Counts here are events, not people, and "
        "are not suppressed.",
    )


def qa_sampled(session: Session, start: date, end: date) -> int:
    return int(
        session.scalar(
            select(func.count(func.distinct(QaSampleDecision.decision_ref))).where(
                QaSampleDecision.decided_on >= start, QaSampleDecision.decided_on <= end
            )
        )
        or 0
    )


def period_stats(db: Any, start: date, end: date) -> tasking.TaskingStats:
    return tasking.compute(db, Period(start, end, end))
