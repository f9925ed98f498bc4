"""Rule packs: the bundled pack is valid, versions follow content, bad packs are refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from triage.cli.main import main
from triage.intel import ranking
from triage.rules.pack import PackError, default_folder, load_pack


@pytest.fixture
def pack_copy(tmp_path) -> Path:
    target = tmp_path / "pack"
    shutil.copytree(default_folder(), target)
    return target


def edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def refused(folder: Path) -> str:
    with pytest.raises(PackError) as caught:
        load_pack(folder)
    return str(caught.value)


def test_bundled_pack_is_valid_and_complete():
    pack = load_pack()
    assert [r.bucket for r in pack.rules] == sorted(r.bucket for r in pack.rules)
    assert {r.bucket for r in pack.rules} == {1, 2, 3, 4, 5, 6}
    assert pack.rules[-1].when == ()
    assert {c.code for c in pack.campaigns} == {
        "NAT-CONSTRUCTION", "NAT-CARE", "NAT-CATERING",
        "LOC-LSE-CARWASH", "LOC-NMWSW-NAILBAR", "LOC-SNI-AGRI",
    }  # fmt: skip
    assert sorted(r.key for r in pack.reasons) == sorted({r.key for r in pack.reasons})
    assert pack.capacity("SNI", "Northern Ireland") == 3
    assert len(pack.version) == 64


def test_version_follows_content_not_layout(pack_copy):
    original = load_pack(pack_copy).version
    edit(pack_copy, "priority.toml", "# Priority within a bucket", "#   Priority within a bucket")
    assert load_pack(pack_copy).version == original
    edit(pack_copy, "priority.toml", "half_life_days = 60", "half_life_days = 45")
    assert load_pack(pack_copy).version != original


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        (
            "buckets.toml",
            '{ input = "persons_estimated", test = "at_least", value = 5 }',
            '{ input = "persons", test = "at_least", value = 5 }',
            "buckets.toml: rule B3-business: unknown input 'persons'",
        ),
        (
            "buckets.toml",
            'test = "equals", value = "fno"',
            'test = "equals", value = "fn0"',
            "buckets.toml: rule B4-fno: allegation: bad `value` 'fn0'",
        ),
        (
            "buckets.toml",
            'id = "B6-rest"\nbucket = 6',
            'id = "B6-rest"\nbucket = 7',
            "buckets.toml: rule B6-rest: bucket must be 1-6, not 7",
        ),
        (
            "buckets.toml",
            'id = "B3-business"\nbucket = 3',
            'id = "B3-business"\nbucket = 1',
            "buckets.toml: rule B3-business: bucket 1 rule listed after bucket 2",
        ),
        (
            "priority.toml",
            "points = { known = 10, last_known = 5, unknown = 0 }",
            "points = { known = 10, last_known = 5, unknown = -3 }",
            "priority.toml: factor whereabouts: points for 'unknown' must be a number >= 0",
        ),
        (
            "priority.toml",
            'type = "freshness"',
            'type = "freshnes"',
            "priority.toml: factor freshness: unknown type 'freshnes'",
        ),
        (
            "campaigns.toml",
            'regions = ["SNI"]',
            'regions = ["SCO"]',
            "campaigns.toml: campaign LOC-SNI-AGRI: unknown region 'SCO'",
        ),
        (
            "campaigns.toml",
            'sectors = ["care"]\nregions = []',
            'sectors = ["care"]\nregions = ["LSE"]',
            "campaigns.toml: campaign NAT-CARE: a national campaign covers every region",
        ),
        (
            "countries.toml",
            'ALB = { name = "Albania", arrangement = "agreement" }',
            'ALB = { name = "Albania", arrangement = "yes" }',
            "countries.toml: country ALB: arrangement must be one of",
        ),
        (
            "reasons.toml",
            "key = 2",
            "key = 1",
            "reasons.toml: reason stale: key 1 used twice",
        ),
        ("buckets.toml", "[[rule]]", "[[rule]", "buckets.toml: not valid TOML"),
        (
            "buckets.toml",
            'test = "any_flag", values = ["weapon"',
            'test = "one_of", values = ["weapon"',
            "buckets.toml: rule B4-threat-flags: harm_flags is a list: test it with any_flag",
        ),
    ],
)
def test_malformed_pack_is_refused_naming_file_rule_and_problem(pack_copy, name, old, new, message):
    edit(pack_copy, name, old, new)
    assert message in refused(pack_copy)


def test_last_rule_must_catch_everything(pack_copy):
    edit(
        pack_copy, "buckets.toml", 'bucket = 6\nlabel = "Everything else', 'bucket = 6\nlabel = "x'
    )
    edit(pack_copy, "buckets.toml", "when = []", 'when = [{ input = "region", test = "present" }]')
    assert "rule B6-rest: the last rule must have `when = []`" in refused(pack_copy)


def test_one_freshness_factor_only(pack_copy):
    with open(pack_copy / "priority.toml", "a", encoding="utf-8") as handle:
        handle.write(
            '\n[[factor]]\nid = "fresh-2"\ntype = "freshness"\nmax_points = 1\n'
            "half_life_days = 2\nstale_after_days = 3\n"
        )
    assert "factor fresh-2: only one freshness factor" in refused(pack_copy)


def test_every_problem_is_listed_at_once(pack_copy):
    edit(pack_copy, "priority.toml", "max_points = 30", "max_points = -1")
    edit(pack_copy, "campaigns.toml", 'kind = "local"', 'kind = "regional"')
    message = refused(pack_copy)
    assert "2 problem(s)" in message
    assert "factor freshness: `max_points` must be >= 0" in message
    assert "campaign LOC-LSE-CARWASH: kind must be national or local" in message


def test_failed_reload_keeps_the_pack_in_force(pack_copy):
    before = ranking.pack_in_force()
    edit(pack_copy, "buckets.toml", 'id = "B4-fno"', 'id = "B3-business"')
    with pytest.raises(PackError, match="id used twice"):
        ranking.reload_pack(str(pack_copy))
    assert ranking.pack_in_force() is before


def test_rules_check_cli(pack_copy, capsys):
    assert main(["rules", "check", str(pack_copy)]) == 0
    assert load_pack(pack_copy).version in capsys.readouterr().out
    edit(pack_copy, "priority.toml", "stale_after_days = 90", "stale_after_days = 0")
    assert main(["rules", "check", str(pack_copy)]) == 1
    assert "priority.toml: factor freshness: `stale_after_days`" in capsys.readouterr().err
