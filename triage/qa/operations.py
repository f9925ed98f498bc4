"""QA sampling of decisions (003 Annex D): draw a sample, score it, read it back.

``draw_sample`` picks ``rate`` (2% by default, 003 Annex A) of a period's
decisions of each kind at random with a recorded seed: the same period, rate
and seed always give the same decisions, and drawing them again returns the
sample already stored. ``score_decision`` records a reviewer's findings and
derives the QS score (``triage.qa.scoring``); the core refuses a reviewer who
made the decision. Every draw and score is audited in the same transaction.
"""

from __future__ import annotations

import math
import random
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from triage import clock
from triage.qa.decisions import Decision, decisions
from triage.qa.models import QaError, QaSample, QaSampleDecision, QaScore
from triage.qa.scoring import Finding, ScoreError, quality_score, satisfactory, score_label
from triage.store import audit
from triage.store.db import Database
from triage.users import Action, Actor, NotPermitted, require

DEFAULT_RATE = 0.02
MAX_SEED = 2**31 - 1  # fits a 32-bit INTEGER column on every database


class QaRequestError(ValueError):
    """A QA request that cannot be done as asked; the message says why."""


@dataclass(frozen=True)
class Sample:
    id: int
    period_from: date
    period_to: date
    rate: float
    seed: int
    population: int  # decisions in the period when drawn
    drawn_at: datetime
    drawn_by: str
    decisions: list[dict[str, Any]] = field(default_factory=list)
    created: bool = False
    # The population by kind, for a sample just drawn (its audit entry keeps it).
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def decision_refs(self) -> list[str]:
        return [d["decision_ref"] for d in self.decisions]


def sample_size(rate: float, population: int) -> int:
    """``rate`` of ``population`` rounded up (a period with any decisions gets
    at least one reviewed); rounded to 9 places first so that 2% of 150 is 3,
    not the 4 that 0.02 * 150 = 3.0000000000000004 would round up to."""
    return min(population, math.ceil(round(rate * population, 9)))


def draw(population: list[Decision], rate: float, seed: int, kind: str) -> list[Decision]:
    """The decisions of one kind a seed picks: a pseudo-random generator seeded
    with the seed and the kind (so adding a kind never changes another's pick),
    choosing positions in the id-ordered population."""
    picked = random.Random(f"{seed}:{kind}").sample(
        range(len(population)), sample_size(rate, len(population))
    )
    return [population[i] for i in sorted(picked)]


def _check_draw(start: date, end: date, rate: float, seed: int) -> None:
    if start > end:
        raise QaRequestError(f"the period starts ({start}) after it ends ({end})")
    if not 0 < rate <= 1:
        raise QaRequestError(f"the rate is a share above 0 and at most 1 (0.02 is 2%), not {rate}")
    if not 0 <= seed <= MAX_SEED:
        raise QaRequestError(f"the seed is a whole number from 0 to {MAX_SEED}")


def _decision_row(
    d: QaSampleDecision, score: QaScore | None, errors: list[QaError]
) -> dict[str, Any]:
    return {
        "id": d.id,
        "sample_id": d.sample_id,
        "decision_ref": d.decision_ref,
        "kind": d.kind,
        "decided_on": d.decided_on,
        "decided_by": d.decided_by,
        "region": d.region,
        "team": d.team,
        "subject": d.subject,
        "item_id": d.item_id,
        "decision": d.decision,
        "score": None if score is None else score_label(score.score),
        "satisfactory": None if score is None else satisfactory(score.score),
        "outcome": None if score is None else score.outcome,
        "points_checked": None if score is None else score.points_checked,
        "errors": [
            {"severity": e.severity, "special_policy": e.special_policy, "note": e.note}
            for e in errors
        ],
        "feedback": None if score is None else score.feedback,
        "reviewer": None if score is None else score.reviewer,
        "scored_at": None if score is None else score.scored_at,
    }


def _decision_rows(session: Session, where: Any) -> list[dict[str, Any]]:
    rows = session.execute(
        select(QaSampleDecision, QaScore)
        .outerjoin(QaScore, QaScore.sample_decision_id == QaSampleDecision.id)
        .where(where)
        .order_by(QaSampleDecision.decided_on, QaSampleDecision.decision_ref)
    ).all()
    score_ids = [s.id for _, s in rows if s is not None]
    errors: dict[int, list[QaError]] = {}
    if score_ids:
        for e in session.scalars(
            select(QaError).where(QaError.score_id.in_(score_ids)).order_by(QaError.id)
        ):
            errors.setdefault(e.score_id, []).append(e)
    return [_decision_row(d, s, errors.get(s.id, []) if s else []) for d, s in rows]


def _sample(
    session: Session, row: QaSample, created: bool, by_kind: dict[str, int] | None = None
) -> Sample:
    listed = _decision_rows(session, QaSampleDecision.sample_id == row.id)
    return Sample(
        row.id, row.period_from, row.period_to, row.rate, row.seed, row.population,
        row.drawn_at, row.drawn_by, listed, created, by_kind or {},
    )  # fmt: skip


def draw_sample(
    db: Database,
    start: date,
    end: date,
    *,
    rate: float = DEFAULT_RATE,
    seed: int | None = None,
    actor: Actor,
) -> Sample:
    """Draw (or, for the same period, rate and seed, return) a QA sample."""
    require(db, actor, Action.QA_REVIEW)
    seed = secrets.randbelow(MAX_SEED + 1) if seed is None else seed
    _check_draw(start, end, rate, seed)
    with db.transaction() as session:
        existing = session.scalars(
            select(QaSample).where(
                QaSample.period_from == start,
                QaSample.period_to == end,
                QaSample.rate == rate,
                QaSample.seed == seed,
            )
        ).first()
        if existing is not None:
            return _sample(session, existing, created=False)
        population = decisions(session, start, end)
        total = sum(len(found) for found in population.values())
        row = QaSample(
            period_from=start, period_to=end, rate=rate, seed=seed, population=total,
            drawn_at=clock.now(), drawn_by=actor.name,
        )  # fmt: skip
        session.add(row)
        session.flush()
        picked = [d for kind, found in population.items() for d in draw(found, rate, seed, kind)]
        session.add_all(
            QaSampleDecision(
                sample_id=row.id,
                decision_ref=d.ref,
                kind=d.kind,
                decided_on=d.decided_on,
                decided_by=d.decided_by,
                region=d.region,
                team=d.team,
                item_id=d.item_id,
                subject=d.subject,
                decision=d.decision[:128],
            )  # fmt: skip
            for d in picked
        )
        counts = ", ".join(f"{kind} {len(found)}" for kind, found in population.items())
        audit.record(
            session, "qa.sample", "qa_sample", row.id,
            new=f"{len(picked)} of {total} decisions ({counts}) made {start} to {end}, "
            f"rate {rate}, seed {seed}",
            who=actor.name,
        )  # fmt: skip
        session.flush()
        by_kind = {kind: len(found) for kind, found in population.items()}
        return _sample(session, row, created=True, by_kind=by_kind)


def samples(db: Database) -> list[dict[str, Any]]:
    """Every sample drawn, newest first, with how many of its decisions are scored."""
    with db.sessions() as session:
        rows = session.scalars(select(QaSample).order_by(QaSample.id.desc())).all()
        out = []
        for row in rows:
            listed = _decision_rows(session, QaSampleDecision.sample_id == row.id)
            out.append(
                {
                    "id": row.id,
                    "period_from": row.period_from,
                    "period_to": row.period_to,
                    "rate": row.rate,
                    "seed": row.seed,
                    "population": row.population,
                    "sampled": len(listed),
                    "scored": sum(1 for d in listed if d["score"]),
                    "drawn_at": row.drawn_at,
                    "drawn_by": row.drawn_by,
                }  # fmt: skip
            )
        return out


def sample(db: Database, sample_id: int | None = None) -> Sample | None:
    """A sample with its decisions and their scores (the newest when no id)."""
    with db.sessions() as session:
        query = select(QaSample)
        query = (
            query.where(QaSample.id == sample_id)
            if sample_id is not None
            else query.order_by(QaSample.id.desc())
        )
        row = session.scalars(query).first()
        return None if row is None else _sample(session, row, created=False)


def _find(session: Session, decision: str | int, sample_id: int | None) -> QaSampleDecision:
    """A sampled decision by its id in a sample, or by its reference (in
    ``sample_id``, else the newest sample that holds it)."""
    query = select(QaSampleDecision)
    if isinstance(decision, int):
        query = query.where(QaSampleDecision.id == decision)
    else:
        query = query.where(QaSampleDecision.decision_ref == decision)
    if sample_id is not None:
        query = query.where(QaSampleDecision.sample_id == sample_id)
    found = session.scalars(query.order_by(QaSampleDecision.sample_id.desc())).first()
    if found is None:
        where = f" in sample {sample_id}" if sample_id is not None else ""
        raise QaRequestError(
            f"decision {decision} is not in a QA sample{where}: draw a sample first"
        )
    return found


def _refuse(db: Database, actor: Actor, ref: str) -> None:
    """A reviewer scoring their own decision: audited (in its own transaction,
    as ``require`` does) and refused."""
    message = f"{actor.describe()} may not review {ref}: they made that decision"
    with db.transaction() as session:
        audit.record(
            session, "permission.refused", "action", "qa_review", new=message, who=actor.name
        )
    raise NotPermitted(message)


def score_decision(
    db: Database,
    decision: str | int,
    *,
    points_checked: int,
    errors: list[Finding],
    outcome: str,
    feedback: str | None = None,
    sample_id: int | None = None,
    actor: Actor,
) -> dict[str, Any]:
    """Score a sampled decision (by its reference, or its id in the sample);
    returns it as ``sample`` lists it. Scoring it again replaces the review."""
    require(db, actor, Action.QA_REVIEW)
    score = quality_score(points_checked, errors, outcome)
    text = (feedback or "").strip() or None
    with db.sessions() as session:
        target = _find(session, decision, sample_id)
        ref, maker = target.decision_ref, target.decided_by
    if maker is not None and maker.strip().lower() == actor.name.strip().lower():
        _refuse(db, actor, ref)
    with db.transaction() as session:
        target = _find(session, decision, sample_id)
        row = session.scalars(
            select(QaScore).where(QaScore.sample_decision_id == target.id)
        ).first()
        old = None if row is None else f"{score_label(row.score)} by {row.reviewer}"
        if row is None:
            row = QaScore(sample_decision_id=target.id)
            session.add(row)
        row.reviewer, row.scored_at = actor.name, clock.now()
        row.points_checked, row.outcome, row.score, row.feedback = (
            points_checked, outcome, score, text,
        )  # fmt: skip
        session.flush()
        session.execute(delete(QaError).where(QaError.score_id == row.id))
        session.add_all(
            QaError(
                score_id=row.id,
                severity=e.severity,
                special_policy=e.special_policy,
                note=(e.note or "").strip() or None,
            )  # fmt: skip
            for e in errors
        )
        # The audit names the score, not the reviewer's notes (which may name people).
        audit.record(
            session,
            "qa.score",
            "qa_decision",
            f"{target.decision_ref} (sample {target.sample_id})",
            field="score",
            old=old,
            new=f"{score_label(score)} by {actor.name}",
            who=actor.name,
        )
        session.flush()
        return _decision_rows(session, QaSampleDecision.id == target.id)[0]


def feedback(
    session: Session, *, item_id: int | None = None, case_id: str | None = None
) -> list[dict[str, Any]]:
    """The scored reviews of an item's (or an EM case's) decisions, oldest
    first: what the decision maker sees in its history."""
    if item_id is None and case_id is None:
        raise ScoreError("feedback for an item or a case")
    where = (
        QaSampleDecision.item_id == item_id
        if item_id is not None
        else (QaSampleDecision.subject == case_id) & (QaSampleDecision.kind != "tasking")
    )
    return [r for r in _decision_rows(session, where) if r["score"] is not None]
