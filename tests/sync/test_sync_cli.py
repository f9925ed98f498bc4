"""``triage sync pull|push|status`` on the command line: exit codes, JSON,
signing in on both sides, an encrypted laptop copy."""

from __future__ import annotations

import json
from datetime import date

import pytest
from actors import add_users
from meeting_fixtures import REGION, TEAM
from sqlalchemy import select

from triage.cli.main import main as cli
from triage.meetings import operations as meetings
from triage.store import cipher
from triage.store.db import open_database
from triage.store.models import IntelItem
from triage.users import Actor, accounts


@pytest.fixture
def signed_in_env(server, monkeypatch):
    add_users(server, "tl", roles=("team-leader",))
    monkeypatch.setenv("TRIAGE_USER", "tl")
    monkeypatch.setenv("TRIAGE_PASSWORD", "pw")
    return Actor("tl", frozenset({"team-leader"}))


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def _decide(db, actor, intel_id, decision):
    meeting = meetings.start_meeting(
        db, region=REGION, team=TEAM, held_on=date(2026, 11, 20), actor=actor
    )
    with db.sessions() as session:
        item = session.scalar(select(IntelItem.id).where(IntelItem.intel_id == intel_id))
    reason = "duplicate" if decision == "rejected" else None
    meetings.decide(
        db, meeting_id=meeting, item_id=item, decision=decision, actor=actor, reason=reason
    )


def test_pull_work_offline_push_with_a_conflict(server, laptop_path, capsys):
    laptop_path.parent.mkdir()
    pulled = ["sync", "pull", "--from", str(server.path), "--region", "London and South East"]
    assert cli([*pulled, "--team", TEAM, "--to", str(laptop_path), "--json"]) == 0
    result = _json(capsys)
    assert result["region"] == REGION and result["counts"]["items"] == 13
    assert result["encrypted"] is False

    actor = accounts.sign_in(server, None, None)  # the single user: no password
    laptop = open_database(laptop_path)
    _decide(laptop, actor, "INT-0000", "accepted")
    _decide(laptop, actor, "INT-0001", "accepted")
    laptop.close()
    _decide(server, actor, "INT-0001", "rejected")  # decided online meanwhile

    assert cli(["--db", str(laptop_path), "sync", "status", "--json"]) == 0
    assert _json(capsys)["unsent"]["intel"] == 2

    code = cli(["--db", str(laptop_path), "sync", "push", "--to", str(server.path), "--json"])
    assert code == 1  # done, with conflicts to look at
    pushed = _json(capsys)
    assert pushed["applied"]["intel"] == 1
    [conflict] = pushed["conflicts"]
    assert conflict["key"] == "INT-0001"
    assert f"rejected by {actor.name}" in conflict["text"]

    code = cli(["--db", str(laptop_path), "sync", "push", "--to", str(server.path)])
    assert code == 1
    out = capsys.readouterr().out
    assert "1 conflict(s), not sent" in out and "item INT-0001" in out


def test_encrypted_laptop_copy(server, laptop_path, capsys, monkeypatch):
    laptop_path.parent.mkdir()
    monkeypatch.setenv("TRIAGE_PASSPHRASE", "correct horse battery staple")
    code = cli(["sync", "pull", "--from", str(server.path), "--region", REGION, "--team", TEAM,
                "--to", str(laptop_path), "--encrypt", "--json"])  # fmt: skip
    assert code == 0 and _json(capsys)["encrypted"] is True
    assert cipher.is_encrypted(laptop_path)
    assert cli(["--db", str(laptop_path), "sync", "status", "--json"]) == 0
    assert _json(capsys)["unsent"]["intel"] == 0


def test_wrong_password_on_the_server_is_exit_4(server, laptop_path, signed_in_env, monkeypatch):
    laptop_path.parent.mkdir()
    monkeypatch.setenv("TRIAGE_PASSWORD", "wrong")
    code = cli(
        ["sync", "pull", "--from", str(server.path), "--region", REGION, "--team", TEAM,
         "--to", str(laptop_path)]
    )  # fmt: skip
    assert code == 4
    assert not laptop_path.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--region", "Atlantis", "--team", TEAM], "unknown region"),
        (["--region", REGION, "--team", "Nowhere"], "has no team"),
    ],
)
def test_unusable_pull_is_exit_2(server, laptop_path, args, message, capsys):
    laptop_path.parent.mkdir()
    code = cli(["sync", "pull", "--from", str(server.path), *args, "--to", str(laptop_path)])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not laptop_path.exists()


def test_missing_server_file_is_exit_2(tmp_path, capsys):
    code = cli(["sync", "pull", "--from", str(tmp_path / "none.sqlite"), "--region", REGION,
                "--team", TEAM, "--to", str(tmp_path / "laptop.sqlite")])  # fmt: skip
    assert code == 2
    assert "no such database" in capsys.readouterr().err


def test_status_of_a_database_that_is_not_a_copy_is_exit_2(db, capsys):
    assert cli(["--db", db.location, "sync", "status"]) == 2
    assert "not a laptop copy" in capsys.readouterr().err
