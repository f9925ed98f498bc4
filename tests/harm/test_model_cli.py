"""`triage model ...` commands: train, list, evaluate, card, activate, deactivate."""

from __future__ import annotations

import json

from model_history import make_history

from triage.cli.main import main
from triage.store.db import open_database


def _json(capsys, *argv) -> object:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_model_commands_round_trip(tmp_path, capsys, new_database_file):
    path = new_database_file(tmp_path / "cli.sqlite")
    database = open_database(path)
    make_history(database, n=800)
    database.close()
    db = ["--db", str(path)]

    trained = _json(capsys, *db, "model", "train", "--json", "--bootstrap", "20")
    assert trained["active"] is False and 0.5 < trained["roc_auc"] <= 1
    assert trained["brier"] < trained["constant_brier"]

    listed = _json(capsys, *db, "model", "list", "--json")
    assert [row["id"] for row in listed] == [trained["id"]]
    assert {"id", "path", "sha256", "active"} <= set(listed[0])
    assert listed[0]["active"] is False and listed[0]["sha256"] == trained["sha256"]

    evaluated = _json(capsys, *db, "model", "evaluate", trained["id"], "--json")
    assert evaluated["roc_auc"] == trained["roc_auc"] and "brier" in evaluated
    assert "nationality" in evaluated["fairness"] and evaluated["reliability"]

    out = tmp_path / "card.md"
    carded = _json(capsys, *db, "model", "card", "--out", str(out), "--json")
    assert out.read_text().startswith(f"# Model card: Triage harm score `{trained['id']}`")
    assert carded["markdown"] == out.read_text()
    assert main([*db, "model", "card", "--out", str(tmp_path / "missing" / "card.md")]) == 2
    assert "cannot write it" in capsys.readouterr().err

    activated = _json(capsys, *db, "model", "activate", trained["id"], "--json")
    assert activated["active"] == trained["id"]
    assert _json(capsys, *db, "model", "list", "--json")[0]["active"] is True

    # A deactivated model's stored scores go with it: nothing shows or orders by them.
    assert main([*db, "rank", "intel", "--format", "json"]) == 0
    assert _stored_harm_scores(path) > 0
    deactivated = _json(capsys, *db, "model", "deactivate", "--json")
    assert deactivated == {"active": None, "previous": trained["id"]}
    assert _stored_harm_scores(path) == 0


def _stored_harm_scores(path) -> int:
    import sqlite3

    with sqlite3.connect(path) as connection:
        return connection.execute(
            "SELECT count(*) FROM intel_rank WHERE harm_score IS NOT NULL"
        ).fetchone()[0]


def test_activate_refuses_unknown_or_tampered_models(tmp_path, capsys, new_database_file):
    path = new_database_file(tmp_path / "cli.sqlite")
    database = open_database(path)
    make_history(database, n=800)
    database.close()
    db = ["--db", str(path)]
    assert main([*db, "model", "activate", "nope"]) == 2
    assert "no registered model 'nope'" in capsys.readouterr().err

    trained = _json(capsys, *db, "model", "train", "--json", "--bootstrap", "0")
    with open(trained["path"], "ab") as handle:
        handle.write(b"tampered")
    assert main([*db, "model", "activate", trained["id"]]) == 2
    assert "not activated" in capsys.readouterr().err
    assert _json(capsys, *db, "model", "list", "--json")[0]["active"] is False


def test_train_without_history_is_a_clear_error(tmp_path, capsys):
    assert main(["--db", str(tmp_path / "empty.sqlite"), "model", "train"]) == 2
    assert "cannot train: only 0 accepted outcomes have a result" in capsys.readouterr().err
