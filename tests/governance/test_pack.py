"""The governance pack: every figure computed from the data (change the data,
the figure follows), protected characteristics suppressed, Markdown and PDF."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from actors import EVERYONE, as_user
from em_helpers import add_case
from meeting_fixtures import REGION, TEAM, ranked, standard_items
from pypdf import PdfReader
from sqlalchemy import insert

from triage.cli.main import main
from triage.em.models import EmRecommendation
from triage.governance import figures
from triage.governance.pack import MARKDOWN_NAME, PDF_NAME, build_pack, markdown, write_pack
from triage.intel import plain, ranking
from triage.meetings import operations as meetings
from triage.qa import operations as qa
from triage.users import Actor, NotPermitted

HELD_ON = date(2026, 11, 19)
START, END = date(2026, 11, 1), date(2026, 11, 30)


def _meeting(db) -> list:
    """A meeting with capacity 3: accepted and rejected above the line,
    accepted and rejected below it."""
    standard_items(db, 12)
    ranked(db)
    meeting_id = meetings.start_meeting(
        db, actor=EVERYONE, region=REGION, team=TEAM, held_on=HELD_ON, capacity=3
    )
    with db.sessions() as session:
        rows = [r for r in meetings.agenda(session, meeting_id) if not r.stale]
    above = [r for r in rows if r.fits]
    below = [r for r in rows if not r.fits]
    for row, decision in ((above[0], "accepted"), (above[1], "rejected"),
                          (below[0], "accepted"), (below[1], "accepted"),
                          (below[2], "rejected")):  # fmt: skip
        meetings.decide(
            db, actor=EVERYONE, meeting_id=meeting_id, item_id=row.item_id, decision=decision,
            reason="stale" if decision == "rejected" else None,
        )  # fmt: skip
    return rows


def _em_decisions(db, genders: list[str | None], overridden: list[bool]) -> None:
    with db.transaction() as session:
        for i, gender in enumerate(genders):
            add_case(session, f"G-{i}", gender=gender)
        session.execute(
            insert(EmRecommendation),
            [
                {
                    "case_id": f"G-{i}",
                    "made_at": datetime(2026, 11, 10, 9),
                    "rules_version": "v",
                    "em": True,
                    "device": "fitted",
                    "explanation": {},
                    "decided_em": not over,
                    "decided_device": "fitted" if not over else "none",
                    "decision_reason": "as advised" if not over else "vulnerable",
                    "decided_by": "cw",
                    "decided_at": datetime(2026, 11, 11, 9),
                    "overridden": over,
                }  # fmt: skip
                for i, over in enumerate(overridden)
            ],
        )


def test_concordance_follows_the_decisions(db):
    _meeting(db)
    with db.sessions() as session:
        table = figures.tasking_concordance(session, START, END)
    rows = {r["line"][:5]: r for r in table.rows}
    assert (rows["Above"]["accepted"], rows["Above"]["rejected"]) == (1, 1)
    assert (rows["Below"]["accepted"], rows["Below"]["rejected"]) == (2, 1)
    # As recommended: accepted above the line (1) + rejected below it (1) of 5.
    assert (rows["All"]["concordant"], rows["All"]["decided"]) == (2, 5)
    assert rows["All"]["concordant_pct"] == 40 and rows["All"]["overridden_pct"] == 60
    with db.sessions() as session:
        outside = figures.tasking_concordance(session, date(2026, 1, 1), date(2026, 1, 31))
    assert outside.rows[-1]["decided"] == 0


def test_em_overrides_and_protected_characteristics_are_counted_and_suppressed(db):
    genders = ["female"] * 12 + ["male"] * 3
    _em_decisions(db, genders, overridden=[i % 4 == 0 for i in range(15)])
    with db.sessions() as session:
        em = figures.em_concordance(session, START, END)
        tables, missing = figures.protected_tables(session, START, END)
    assert em.rows[-1]["decided"] == 15 and em.rows[-1]["overridden"] == 4
    assert em.rows[-1]["overridden_pct"] == 27
    protected_em = next(t for t in tables if t.name == "protected_em")
    by_gender = {r["value"]: r for r in protected_em.rows if "gender" in r["characteristic"]}
    assert by_gender["female"]["decided"] == 12 and by_gender["male"]["decided"] == 3
    assert by_gender["female"]["overridden"] == 3  # cases 0, 4, 8
    assert "religion or belief" in missing and "sex" not in missing and "race" not in missing
    pack = build_pack(db, START, END, actor=EVERYONE)
    text = markdown(pack)
    # Fewer than 10 people: suppressed whatever the threshold asked for.
    assert "| sex (gender) | male | <10 |" in text
    assert "| sex (gender) | female | 12 |" in text
    assert "Not recorded: age, gender reassignment" in text
    assert pack.figures["em_override_pct"] == 27


def test_the_pack_is_computed_from_the_data(db, tmp_path):
    _meeting(db)
    reviewer = as_user("reviewer")
    drawn = qa.draw_sample(db, START, END, rate=1, seed=1, actor=reviewer)
    for i, decision in enumerate(drawn.decisions):
        qa.score_decision(
            db, decision["id"], points_checked=5,
            errors=[qa.Finding("significant")] if i == 0 else [], outcome="probably_correct",
            actor=reviewer,
        )  # fmt: skip
    pack = build_pack(db, START, END, actor=EVERYONE)
    assert pack.figures["tasking_concordance_pct"] == 40
    assert pack.figures["qa_scored"] == 5 and pack.figures["qa_satisfactory_pct"] == 80
    assert pack.figures["intel_rules_version"] == ranking.pack_in_force().version
    text = markdown(pack)
    assert "satisfactory (QS1 or QS2): 80%, against a target of at least 75%" in text
    for rule in ranking.pack_in_force().rules:
        assert rule.label in text
    assert "No harm model is active" in text
    assert "| QA sample drawn | 1 |" in text
    md, pdf = write_pack(pack, tmp_path / "pack")
    assert md.name == MARKDOWN_NAME and pdf.name == PDF_NAME
    pdf_text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Triage governance pack" in pdf_text and "Review cadence" in pdf_text
    # One more decision changes the figures.
    meeting = meetings.start_meeting(
        db, actor=EVERYONE, region=REGION, team=TEAM, held_on=date(2026, 11, 26), capacity=3
    )
    with db.sessions() as session:
        first = next(r for r in meetings.agenda(session, meeting) if r.fits and not r.stale)
    meetings.decide(db, actor=EVERYONE, meeting_id=meeting, item_id=first.item_id,
                    decision="accepted")  # fmt: skip
    assert build_pack(db, START, END, actor=EVERYONE).figures["tasking_concordance_pct"] == 50


def test_the_rule_pack_in_plain_english_names_every_rule_and_factor():
    pack = ranking.pack_in_force()
    lines = plain.describe_pack(pack)
    assert sum(1 for line in lines if "**Bucket" in line) == len(pack.rules)
    assert all(any(f.label in line for line in lines) for f in pack.factors)
    assert not any("at most 0" in line for line in lines)


def test_reading_the_pack_needs_the_statistics_role(db):
    with pytest.raises(NotPermitted):
        build_pack(db, START, END, actor=Actor("o", frozenset({"officer"})))


def test_cli_governance_pack(db, tmp_path, capsys):
    _meeting(db)
    out = tmp_path / "governance"
    assert main(["--db", db.location, "governance", "pack", "--out", str(out),
                 "--from", "2026-11-01", "--to", "2026-11-30", "--json"]) == 0  # fmt: skip
    result = json.loads(capsys.readouterr().out)
    assert result["figures"]["tasking_override_pct"] == 60
    assert (out / MARKDOWN_NAME).read_text().startswith("# Triage governance pack")
    assert (out / PDF_NAME).stat().st_size > 0
    assert main(["--db", db.location, "governance", "pack", "--out", str(out / MARKDOWN_NAME)]) == 2
    assert main(["--db", db.location, "governance", "pack", "--out", str(out),
                 "--from", "2026-12-01", "--to", "2026-11-01"]) == 2  # fmt: skip
