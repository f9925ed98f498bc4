"""``triage db copy SRC DST``: a whole database into a new one, counts checked,
the audit chain intact on the copy."""

from __future__ import annotations

import json

import pytest
from actors import EVERYONE
from meeting_fixtures import ranked
from sqlalchemy import func, select

from triage.cli.main import main as cli
from triage.intel import notes as item_notes
from triage.store.db import open_database
from triage.store.models import AuditEntry
from triage.store.schema import metadata
from triage.sync.copy import CopyError, copy_database
from triage.users import Actor, NotPermitted, auditing


def _counts(db):
    with db.engine.connect() as connection:
        return {
            t.name: connection.execute(select(func.count()).select_from(t)).scalar()
            for t in metadata.sorted_tables
        }


def test_copy_keeps_every_row_and_the_audit_chain(server, tmp_path, capsys):
    ranked(server)
    item_notes.add_note(server, 1, "a note", actor=EVERYONE)
    target = tmp_path / "copy.sqlite"
    code = cli(["db", "copy", str(server.path), str(target), "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    copy = open_database(target)
    try:
        # Every row, and one more audit entry on each side: the copy itself.
        expected = _counts(server)
        assert _counts(copy) == expected
        with server.sessions() as session:
            copied = session.scalars(
                select(AuditEntry.new_value).where(AuditEntry.action == "db.copy")
            )
            assert [text.split(":")[0] for text in copied] == [f"copied to {target}"]
        assert result["tables"]["intel_item"] == 14
        assert result["rows"] == sum(expected.values()) - 1  # before the source's entry
        assert auditing.verify(copy, actor=EVERYONE).ok
        with copy.engine.connect() as a, server.engine.connect() as b:
            for name in ("intel_item", "app_user", "rank_state", "intel_rank"):
                t = metadata.tables[name]
                assert a.execute(select(t)).all() == b.execute(select(t)).all()
            t = metadata.tables["audit_log"]
            copied_log = a.execute(select(t).order_by(t.c.id)).all()
            assert copied_log[:-1] == b.execute(select(t).order_by(t.c.id)).all()[:-1]
            assert copied_log[-1].action == "db.copy"
        # New rows continue after the copied ids.
        note = item_notes.add_note(copy, 1, "after the copy", actor=EVERYONE)
        assert note == 2
    finally:
        copy.close()


def test_copy_into_a_database_with_data_is_refused(server, tmp_path, new_database_file):
    other = open_database(new_database_file(tmp_path / "other.sqlite"))
    try:
        item_notes.add_note(server, 1, "x", actor=EVERYONE)
        copy_database(server, other, actor=EVERYONE)
        with pytest.raises(CopyError, match="already holds data"):
            copy_database(server, other, actor=EVERYONE)
    finally:
        other.close()


def test_copy_is_for_admins(server, tmp_path, new_database_file):
    other = open_database(new_database_file(tmp_path / "other.sqlite"))
    try:
        with pytest.raises(NotPermitted):
            copy_database(server, other, actor=Actor("tl", frozenset({"team-leader"})))
        assert _counts(other)["intel_item"] == 0
    finally:
        other.close()


def test_copy_to_an_existing_file_is_exit_2(server, tmp_path, new_database_file, capsys):
    existing = new_database_file(tmp_path / "existing.sqlite")
    assert cli(["db", "copy", str(server.path), str(existing)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_a_copy_carries_the_harm_model_file(db, tmp_path, new_database_file, monkeypatch):
    """The model's bytes are copied with its row: a machine opening the copy
    (another data folder, no file at the registered path) loads it."""
    import shutil

    from model_history import make_history

    from triage.harm import scoring, training

    make_history(db, n=800)
    trained = training.train(db, n_boot=0, classifier="logistic", activate=True, actor=EVERYONE)
    target = open_database(new_database_file(tmp_path / "copy.sqlite"))
    try:
        assert copy_database(db, target, actor=EVERYONE).tables["harm_model_file"] == 1
        shutil.rmtree(trained.path.parent)
        monkeypatch.setenv("TRIAGE_HOME", str(tmp_path / "another-machine"))
        assert scoring.load_model(target).id == trained.model_id
    finally:
        target.close()
