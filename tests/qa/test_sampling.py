"""QA samples: reproducible draws, scoring by someone else, the report."""

from __future__ import annotations

from datetime import date

import pytest
from actors import as_user
from hypothesis import given
from hypothesis import strategies as st
from qa_helpers import FIRST_DAY, add_decisions
from sqlalchemy import select

from triage.qa import operations as qa
from triage.qa.report import build_report
from triage.qa.scoring import Finding
from triage.store.models import AuditEntry
from triage.users import Actor, NotPermitted

END = date(2026, 10, 31)
REVIEWER = as_user("reviewer")


def test_the_same_seed_draws_the_same_sample_and_a_draw_is_stored_once(db):
    add_decisions(db, tasking=200, reviews=20)
    first = qa.draw_sample(db, FIRST_DAY, END, seed=7, actor=REVIEWER)
    again = qa.draw_sample(db, FIRST_DAY, END, seed=7, actor=REVIEWER)
    other = qa.draw_sample(db, FIRST_DAY, END, seed=8, actor=REVIEWER)
    assert first.created and not again.created
    assert again.id == first.id and again.decision_refs == first.decision_refs
    assert other.decision_refs != first.decision_refs
    # 2% of 200 tasking decisions (4) and of 20 reviews (rounded up: 1).
    assert first.by_kind["tasking"] == 200 and first.by_kind["em_review"] == 20
    kinds = [d["kind"] for d in first.decisions]
    assert kinds.count("tasking") == 4 and kinds.count("em_review") == 1
    assert first.population == 220
    assert len(set(first.decision_refs)) == 5
    # The pick depends only on the seed and the population: a new database
    # with the same decisions draws the same references.
    assert qa.draw(list(range(200)), 0.02, 7, "tasking") == qa.draw(
        list(range(200)), 0.02, 7, "tasking"
    )
    with db.sessions() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "qa.sample")).all()
    assert len(entries) == 2  # seeds 7 and 8; the repeat added nothing


def test_sample_size_rounds_up_exactly():
    assert qa.sample_size(0.02, 150) == 3
    assert qa.sample_size(0.02, 1) == 1
    assert qa.sample_size(0.02, 0) == 0
    assert qa.sample_size(0.5, 3) == 2
    assert qa.sample_size(1, 7) == 7


def test_a_period_outside_the_decisions_draws_nothing(db):
    add_decisions(db, tasking=10, reviews=0)
    drawn = qa.draw_sample(db, date(2025, 1, 1), date(2025, 1, 31), seed=1, actor=REVIEWER)
    assert drawn.decisions == [] and drawn.population == 0


@pytest.mark.parametrize(
    ("start", "end", "rate", "seed", "problem"),
    [
        (END, FIRST_DAY, 0.02, 1, "starts"),
        (FIRST_DAY, END, 0, 1, "rate"),
        (FIRST_DAY, END, 1.5, 1, "rate"),
        (FIRST_DAY, END, 0.02, -1, "seed"),
    ],
)
def test_a_bad_draw_is_refused(db, start, end, rate, seed, problem):
    with pytest.raises(qa.QaRequestError, match=problem):
        qa.draw_sample(db, start, end, rate=rate, seed=seed, actor=REVIEWER)


def test_a_reviewer_cannot_score_their_own_decision_and_the_refusal_is_audited(db):
    add_decisions(db, tasking=50, reviews=0, by="maker")
    drawn = qa.draw_sample(db, FIRST_DAY, END, rate=1, seed=1, actor=REVIEWER)
    own = next(d for d in drawn.decisions if d["decided_by"] == "maker")
    with pytest.raises(NotPermitted, match="made that decision"):
        qa.score_decision(
            db, own["decision_ref"], points_checked=5, errors=[], outcome="probably_correct",
            actor=as_user("maker"),
        )  # fmt: skip
    with db.sessions() as session:
        refused = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "permission.refused")
        ).all()
    assert len(refused) == 1 and own["decision_ref"] in str(refused[0].new_value)
    assert qa.sample(db, drawn.id).decisions[0]["score"] is None


def test_only_team_leaders_and_auditors_review(db):
    add_decisions(db, tasking=10, reviews=0)
    officer = Actor("officer1", frozenset({"officer"}))
    with pytest.raises(NotPermitted):
        qa.draw_sample(db, FIRST_DAY, END, seed=1, actor=officer)
    for role in ("team-leader", "auditor"):
        qa.draw_sample(db, FIRST_DAY, END, seed=1, actor=Actor("r", frozenset({role})))


def test_scoring_derives_the_score_and_a_second_review_replaces_the_first(db):
    add_decisions(db, tasking=50, reviews=0)
    drawn = qa.draw_sample(db, FIRST_DAY, END, rate=0.1, seed=3, actor=REVIEWER)
    ref = drawn.decision_refs[0]
    scored = qa.score_decision(
        db, ref, points_checked=10, errors=[Finding("fail", "safeguarding", "no check")],
        outcome="probably_correct", feedback="Check the safeguarding referral first.",
        actor=REVIEWER,
    )  # fmt: skip
    assert scored["score"] == "QS5" and scored["satisfactory"] is False
    assert scored["errors"] == [
        {"severity": "fail", "special_policy": "safeguarding", "note": "no check"}
    ]
    again = qa.score_decision(
        db, ref, points_checked=10, errors=[Finding("minor")], outcome="probably_correct",
        actor=as_user("second"),
    )  # fmt: skip
    assert (
        again["score"] == "QS1"
        and again["reviewer"] == "second"
        and again["errors"][0]["severity"] == "minor"
    )
    with db.sessions() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "qa.score")).all()
    assert [(e.old_value, e.new_value) for e in entries] == [
        (None, "QS5 by reviewer"),
        ("QS5 by reviewer", "QS1 by second"),
    ]
    # The audit never holds the reviewer's notes or feedback.
    assert all("safeguarding referral" not in str(e.new_value) for e in entries)


def test_an_unknown_decision_is_refused(db):
    with pytest.raises(qa.QaRequestError, match="not in a QA sample"):
        qa.score_decision(
            db, "tasking:999", points_checked=1, errors=[], outcome="probably_correct",
            actor=REVIEWER,
        )  # fmt: skip


def test_the_report_counts_satisfactory_decisions_by_kind_region_and_team(db):
    add_decisions(db, tasking=100, reviews=10)
    drawn = qa.draw_sample(db, FIRST_DAY, END, rate=0.1, seed=5, actor=REVIEWER)
    scores = {}
    for i, ref in enumerate(drawn.decision_refs):
        errors = [Finding("significant")] if i % 4 == 0 else []
        scores[ref] = qa.score_decision(
            db, ref, points_checked=5, errors=errors, outcome="probably_correct", actor=REVIEWER
        )
    report = build_report(db, FIRST_DAY, END)
    overall = report.overall
    good = sum(1 for s in scores.values() if s["satisfactory"])
    assert overall["scored"] == len(scores) == 11  # 10 tasking + 1 review
    assert overall["satisfactory"] == good and overall["qs3"] == len(scores) - good
    assert overall["satisfactory_pct"] == (200 * good + 11) // 22
    assert overall["target"] == ("yes" if overall["satisfactory_pct"] >= 75 else "no")
    by = {(r["breakdown"], r["group"]): r for r in report.table.rows}
    assert by[("Decision kind", "EM review")]["scored"] == 1
    assert by[("Decision kind", "Tasking decision")]["scored"] == 10
    assert by[("Team", "not recorded")]["scored"] == 1  # EM decisions have no team
    assert sum(r["scored"] for (b, _), r in by.items() if b == "Region") == 11
    released = report.released(5)
    hidden = {(r["breakdown"], r["group"]): r for r in released.table.rows}
    assert hidden[("Decision kind", "EM review")]["scored"] == "<5"
    assert hidden[("Decision kind", "EM review")]["satisfactory_pct"] == "c"
    assert hidden[("Decision kind", "EM review")]["target"] == ""


def test_feedback_reaches_the_items_history(db):
    add_decisions(db, tasking=20, reviews=0)
    drawn = qa.draw_sample(db, FIRST_DAY, END, rate=0.1, seed=2, actor=REVIEWER)
    decision = drawn.decisions[0]
    qa.score_decision(
        db, decision["decision_ref"], points_checked=4, errors=[Finding("minor")],
        outcome="probably_correct", feedback="Record the reason in full.", actor=REVIEWER,
    )  # fmt: skip
    with db.sessions() as session:
        seen = qa.feedback(session, item_id=decision["item_id"])
        nothing = qa.feedback(session, item_id=drawn.decisions[1]["item_id"])
    assert [(f["score"], f["feedback"]) for f in seen] == [("QS2", "Record the reason in full.")]
    assert nothing == []  # sampled but not yet scored


@given(st.integers(0, 3000), st.integers(1, 100), st.integers(0, qa.MAX_SEED))
def test_a_draw_is_the_rounded_up_share_in_id_order_and_repeatable(n, percent_rate, seed):
    population = list(range(n))
    rate = percent_rate / 100
    picked = qa.draw(population, rate, seed, "tasking")
    assert picked == qa.draw(population, rate, seed, "tasking")
    assert picked == sorted(set(picked))
    assert len(picked) == min(n, -(-n * percent_rate // 100))  # exact ceiling
