"""Users and roles: signing in, and permissions enforced in the core."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from sqlalchemy import select

from triage.cli.main import main as cli
from triage.em import claims
from triage.meetings import operations as meetings
from triage.store.models import AuditEntry
from triage.users import ALL_ROLES, ROLES, Action, Actor, NotPermitted, accounts, permitted, require
from triage.users.accounts import SignInError, UserError


def first_user(db) -> Actor:
    return accounts.sign_in(db, None, None)


def audit_rows(db, action: str) -> list[AuditEntry]:
    with db.sessions() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


@pytest.fixture
def team(db):
    """The first user (admin, now with a password) and an officer, bob."""
    owner = first_user(db)
    accounts.set_password(db, owner.name, "owner-pw", actor=owner)
    accounts.add_user(db, "bob", ["officer"], "bob-pw", actor=owner)
    return db, owner


def test_a_new_database_has_one_user_with_every_role_and_no_login(db):
    owner = first_user(db)
    assert owner.roles == ALL_ROLES
    assert accounts.sign_in(db, owner.name, None) == owner  # no password while alone


@pytest.mark.parametrize(("role", "action"), list(itertools.product(ROLES, Action)))
def test_each_role_may_do_exactly_what_the_table_says(db, role, action):
    actor = Actor("pat", frozenset({role}))
    allowed = action in ROLES[role]
    assert permitted(actor, action) is allowed
    if allowed:
        require(db, actor, action)
        assert audit_rows(db, "permission.refused") == []
    else:
        with pytest.raises(NotPermitted, match=rf"^pat \({role}\) may not {action.value}$"):
            require(db, actor, action)
        (refusal,) = audit_rows(db, "permission.refused")
        assert (refusal.who, refusal.entity_id) == ("pat", action.name.lower())


def test_the_roles_follow_the_issue(db):
    assert permitted(Actor("t", frozenset({"team-leader"})), Action.RUN_MEETINGS)
    assert permitted(Actor("o", frozenset({"officer"})), Action.IMPORT)
    assert permitted(Actor("e", frozenset({"em-caseworker"})), Action.EM_ACTIONS)
    assert permitted(Actor("r", frozenset({"rules-owner"})), Action.MODEL)
    assert permitted(Actor("a", frozenset({"auditor"})), Action.READ_AUDIT)
    assert permitted(Actor("a", frozenset({"auditor"})), Action.READ_STATISTICS)
    assert permitted(Actor("d", frozenset({"admin"})), Action.MANAGE_USERS)
    assert not permitted(Actor("o", frozenset({"officer"})), Action.RUN_MEETINGS)


def test_signing_in_with_several_users(team):
    db, owner = team
    with pytest.raises(SignInError, match="several users"):
        accounts.sign_in(db, None, None)
    bob = accounts.sign_in(db, "bob", "bob-pw")
    assert (bob.name, bob.roles) == ("bob", frozenset({"officer"}))
    with pytest.raises(SignInError, match="wrong password for user 'bob'"):
        accounts.sign_in(db, "bob", "guess")
    with pytest.raises(SignInError, match="needs a password"):
        accounts.sign_in(db, "bob", None)
    with pytest.raises(SignInError, match="no user 'carol'"):
        accounts.sign_in(db, "carol", "x")
    accounts.disable_user(db, "bob", actor=owner)
    with pytest.raises(SignInError, match="'bob' is disabled"):
        accounts.sign_in(db, "bob", "bob-pw")
    # The hash is stored, never the password, and the audit says only "set".
    with db.sessions() as session:
        stored = session.scalars(select(AuditEntry.new_value)).all()
    assert not any("bob-pw" in (value or "") for value in stored)


def test_a_second_user_needs_the_admin_to_have_a_password_first(db):
    owner = first_user(db)
    with pytest.raises(UserError, match="set your own password first"):
        accounts.add_user(db, "bob", ["officer"], "pw", actor=owner)
    with pytest.raises(UserError, match="unknown role boss"):
        accounts.add_user(db, "bob", ["boss"], "pw", actor=owner)
    with pytest.raises(UserError, match="user name"):
        accounts.add_user(db, "1bob; drop", ["officer"], "pw", actor=owner)
    with pytest.raises(UserError, match="last admin"):
        accounts.disable_user(db, owner.name, actor=owner)


def test_an_officer_may_not_decide_at_a_meeting_and_nothing_changes(team):
    db, _owner = team
    bob = accounts.sign_in(db, "bob", "bob-pw")
    with pytest.raises(NotPermitted, match=r"bob \(officer\) may not run meetings"):
        meetings.start_meeting(db, region="LSE", team=None, held_on=date(2026, 11, 20), actor=bob)
    with db.sessions() as session:
        assert session.scalars(select(AuditEntry.action)).all()[-1] == "permission.refused"
        assert not session.scalars(
            select(AuditEntry).where(AuditEntry.action == "meeting.start")
        ).all()
    with pytest.raises(NotPermitted, match="may not manage users"):
        accounts.list_users(db, actor=bob)
    with pytest.raises(NotPermitted, match="may not act on EM cases"):
        claims.claim(db, "ANY", actor=bob)


def test_cli_users_sign_in_and_exit_4_when_refused(db, monkeypatch, capsys):
    base = ["--db", db.location]
    owner = first_user(db).name
    monkeypatch.setenv("TRIAGE_NEW_PASSWORD", "owner-pw")
    assert cli([*base, "user", "passwd"]) == 0  # single-user mode: no login yet
    monkeypatch.setenv("TRIAGE_NEW_PASSWORD", "bob-pw")
    assert cli([*base, "--user", owner, "user", "add", "bob", "--role", "officer"]) == 4
    assert "needs a password" in capsys.readouterr().err
    monkeypatch.setenv("TRIAGE_PASSWORD", "owner-pw")
    assert cli([*base, "--user", owner, "user", "add", "bob", "--role", "officer"]) == 0
    assert cli([*base, "user", "list"]) == 4  # several users now: who is it?
    assert "several users" in capsys.readouterr().err
    monkeypatch.setenv("TRIAGE_USER", "bob")
    monkeypatch.setenv("TRIAGE_PASSWORD", "wrong")
    assert cli([*base, "rank", "intel"]) == 4
    assert capsys.readouterr().err == "triage: wrong password for user 'bob'\n"
    monkeypatch.setenv("TRIAGE_PASSWORD", "bob-pw")
    assert cli([*base, "rank", "intel", "--format", "json"]) == 0
    capsys.readouterr()
    assert cli([*base, "user", "list"]) == 4
    assert capsys.readouterr().err == "triage: bob (officer) may not manage users\n"
    assert cli([*base, "em", "claim", "C-1"]) == 4
    assert "bob (officer) may not act on EM cases" in capsys.readouterr().err
    assert cli([*base, "stats", "tasking"]) == 4
    assert "bob (officer) may not read the statistics" in capsys.readouterr().err
    refused = audit_rows(db, "permission.refused")
    assert [(r.who, r.entity_id) for r in refused] == [
        ("bob", "manage_users"),
        ("bob", "em_actions"),
        ("bob", "read_statistics"),
    ]
    monkeypatch.setenv("TRIAGE_USER", owner)
    monkeypatch.setenv("TRIAGE_PASSWORD", "owner-pw")
    assert cli([*base, "user", "list", "--format", "json"]) == 0
    assert '"name": "bob"' in capsys.readouterr().out
    assert cli([*base, "user", "disable", "bob"]) == 0
    monkeypatch.setenv("TRIAGE_USER", "bob")
    monkeypatch.setenv("TRIAGE_PASSWORD", "bob-pw")
    assert cli([*base, "rank", "intel"]) == 4
    assert capsys.readouterr().err == "triage: user 'bob' is disabled\n"
