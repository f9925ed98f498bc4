"""``rank intel --as-of``: a past queue as it stood then."""

from __future__ import annotations

import json

from actors import EVERYONE

from triage.cli.main import main
from triage.imports.importer import import_file


def test_past_queue_shows_items_open_then(db, tmp_path, capsys):
    items = tmp_path / "intel.csv"
    items.write_text("intel_id,received_at,region\nA-1,2026-10-01,LSE\nA-2,2026-10-02,LSE\n")
    import_file(db, "intel", items, actor=EVERYONE)
    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_text("intel_id,meeting_date,decision\nA-1,2026-11-02,accepted\n")
    import_file(db, "outcomes", outcomes, actor=EVERYONE)
    argv = ["--db", db.location, "rank", "intel", "--format", "json"]
    assert main([*argv, "--as-of", "2026-10-20"]) == 0
    past = json.loads(capsys.readouterr().out)
    # A-1 was accepted on 2 November; on 20 October it was still open.
    assert sorted((r["intel_id"], r["status"]) for r in past) == [("A-1", "open"), ("A-2", "open")]
    assert main(argv) == 0
    now = json.loads(capsys.readouterr().out)
    assert [r["intel_id"] for r in now] == ["A-2"]


def test_explain_and_replay_as_of_see_only_items_received_by_then(db, tmp_path, capsys):
    from triage.clock import parse_datetime
    from triage.intel import replay
    from triage.rules.pack import load_pack

    items = tmp_path / "intel.csv"
    items.write_text("intel_id,received_at,region\nA-1,2026-10-01,LSE\nA-2,2026-11-02,LSE\n")
    import_file(db, "intel", items, actor=EVERYONE)
    pack = load_pack()
    assert replay.diff(db, pack, pack, as_of=parse_datetime("2026-10-20")).items == 1
    assert replay.diff(db, pack, pack).items == 2
    assert main(["--db", db.location, "explain", "intel", "A-2", "--as-of", "2026-10-20"]) == 2
    assert "after --as-of" in capsys.readouterr().err
