"""``triage qa sample|list|score|report`` and the QA tables' migration."""

from __future__ import annotations

import json

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from openpyxl import load_workbook
from pypdf import PdfReader
from qa_helpers import add_decisions

from triage.cli.main import main
from triage.store.schema import metadata
from triage.users import accounts

PERIOD = ["--from", "2026-10-01", "--to", "2026-10-31"]


def _json(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


def test_cli_sample_score_and_report(db, capsys, tmp_path):
    add_decisions(db, tasking=100, reviews=10, by="maker")
    me = accounts.sign_in(db, None, None).name
    base = ["--db", db.location, "qa"]
    assert main([*base, "sample", *PERIOD, "--seed", "11", "--format", "json"]) == 0
    first = _json(capsys)
    assert main([*base, "sample", *PERIOD, "--seed", "11", "--json"]) == 0
    again = _json(capsys)
    assert again["decision_ids"] == first["decision_ids"] and again["new"] is False
    assert len(first["decision_ids"]) == 3 and first["seed"] == 11  # 2 tasking + 1 review
    ref = first["decision_ids"][0]
    assert main([
        *base, "score", ref, "--points", "8", "--error", "minor", "--error", "fail:modern_slavery",
        "--outcome", "correct", "--feedback", "See the NRM guidance.", "--json",
    ]) == 0  # fmt: skip
    scored = _json(capsys)
    assert scored["score"] == "QS5" and scored["reviewer"] == me
    assert (
        main([*base, "score", ref, "--points", "8", "--error", "grave", "--outcome", "wrong"]) == 2
    )
    assert main([*base, "score", ref, "--points", "8", "--outcome", "wrong"]) == 2
    assert "needs the fail error" in capsys.readouterr().err
    assert main([*base, "list", "--json"]) == 0
    listed = _json(capsys)
    assert [d["score"] for d in listed].count("QS5") == 1
    assert main([*base, "report", *PERIOD, "--json", "--suppress-below", "0"]) == 0
    report = _json(capsys)
    assert report["rows"][0]["scored"] == 1 and report["rows"][0]["qs5"] == 1
    assert report["rows"][0]["satisfactory_pct"] == 0 and report["rows"][0]["target"] == "no"
    for fmt in ("csv", "xlsx", "pdf"):
        out = tmp_path / f"qa.{fmt}"
        assert main([*base, "report", *PERIOD, "--format", fmt, "--out", str(out)]) == 0
        assert out.stat().st_size > 0
    assert out.name == "qa.pdf" and "QA sampling" in PdfReader(out).pages[0].extract_text()
    sheet = load_workbook(tmp_path / "qa.xlsx").worksheets[0]
    assert sheet.cell(1, 1).value.startswith("QA sampling")
    assert (tmp_path / "qa.csv").read_text().splitlines()[0].startswith("breakdown,group,scored")
    assert main([*base, "report", *PERIOD, "--format", "csv"]) == 2  # needs --out


def test_cli_refuses_scoring_your_own_decision_with_exit_4(db, capsys):
    me = accounts.sign_in(db, None, None).name
    add_decisions(db, tasking=0, reviews=5, by=me)
    base = ["--db", db.location, "qa"]
    assert main([*base, "sample", *PERIOD, "--rate", "1", "--seed", "1", "--json"]) == 0
    ref = _json(capsys)["decision_ids"][0]
    assert main([*base, "score", ref, "--points", "3", "--outcome", "correct"]) == 4
    assert "made that decision" in capsys.readouterr().err


def test_the_migration_makes_the_qa_tables_the_models_describe(db):
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    assert [d for d in diff if "qa_" in repr(d)] == []
