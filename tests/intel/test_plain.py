"""The plain-English "why this rank" and "why below the item above"."""

from __future__ import annotations

import json
from datetime import timedelta

from test_ranking import NOW, add_item

from triage.cli.main import main
from triage.intel import plain, ranking


def test_summary_says_bucket_age_harm_whereabouts_and_returns(db):
    item = add_item(
        db,
        campaign="NAT-CONSTRUCTION",
        harm_flags=";weapon;",
        whereabouts="known",
        nationality="ALB",
        received_at=NOW - timedelta(days=120),
    )
    ranking.refresh(db, as_of=NOW)
    text = plain.explain(db, item)["summary"]
    assert text.startswith("T")
    assert "is in bucket 1 because: linked by Intelligence to an active national campaign." in text
    assert "It is 120 days old, so freshness adds" in text
    assert "stale and must be re-checked" in text
    assert "Harm: weapon (12.0 points)." in text
    assert "The subject's whereabouts are known (10.0 points)." in text
    assert "Albania has a returns agreement (8.0 points)." in text


def test_summary_with_nothing_recorded(db):
    item = add_item(db, received_at=NOW - timedelta(days=1))
    ranking.refresh(db, as_of=NOW)
    text = plain.explain(db, item)["summary"]
    assert "It is 1 day old" in text
    assert "stale" not in text
    assert "No harm is recorded." in text
    assert "Whereabouts are not recorded." in text
    assert "The returns route is not known" in text


def test_why_below_a_higher_bucket(db):
    top = add_item(db, campaign="NAT-CONSTRUCTION")
    low = add_item(db, harm_flags=";weapon;")
    ranking.refresh(db, as_of=NOW)
    found = plain.explain(db, low, find_above=True)
    assert found["below"]["intel_id"] == ranking.explain(db, top)["intel_id"]
    assert "is in a higher bucket (1" in found["below"]["why"]
    assert "buckets come first" in found["below"]["why"]


def test_why_below_in_the_same_bucket_names_the_factors(db):
    add_item(db, harm_flags=";weapon;", whereabouts="known", received_at=NOW - timedelta(days=2))
    second = add_item(db, harm_flags=";weapon;", received_at=NOW - timedelta(days=200))
    ranking.refresh(db, as_of=NOW)
    why = plain.explain(db, second, find_above=True)["below"]["why"]
    assert why.startswith("Same bucket (4) as T")
    assert "whereabouts of the subject (+10.0)" in why
    assert "freshness (+" in why


def test_the_first_item_has_nothing_above(db):
    first = add_item(db, campaign="NAT-CONSTRUCTION")
    add_item(db)
    ranking.refresh(db, as_of=NOW)
    assert plain.explain(db, first, find_above=True)["below"] is None


def test_cli_explain_starts_with_the_paragraph(db, capsys):
    add_item(db, campaign="NAT-CONSTRUCTION", intel_id="UP-1")
    add_item(db, intel_id="DOWN-1")
    ranking.refresh(db, as_of=NOW)
    assert main(["--db", db.location, "explain", "intel", "DOWN-1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("DOWN-1 is in bucket 6 because:")
    assert "Below UP-1 because UP-1 is in a higher bucket" in out
    assert "Details:" in out
    assert main(["--db", db.location, "explain", "intel", "DOWN-1", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["summary"].startswith("DOWN-1 is in bucket 6")
    assert found["below"]["intel_id"] == "UP-1"


def test_a_yes_no_condition_reads_as_yes_or_no():
    from triage.intel.plain import condition_text
    from triage.rules.pack import load_pack

    (named,) = [r for r in load_pack().rules if r.id == "B5-named-priority"]
    assert [condition_text(c) for c in named.when] == [
        "subject named is yes",
        "allegation is a national priority",
    ]
