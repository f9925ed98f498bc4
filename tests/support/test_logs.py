"""The log file and crash reports (triage.logs) and the About facts
(triage.ops.about), without a display."""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import stat
from pathlib import Path

import pytest

from triage import logs, paths
from triage.ops import about


@pytest.fixture
def log_file(isolated_home):
    """Logging started into $TRIAGE_HOME/logs; the handler removed afterwards."""
    path = logs.start_logging()
    yield path
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, logging.handlers.RotatingFileHandler):
            root.removeHandler(handler)
            handler.close()


def test_log_goes_to_a_private_file_in_the_log_folder(log_file, isolated_home):
    assert log_file == isolated_home / "logs" / "triage.log"
    logging.getLogger("triage.test").info("ranked %d items", 12)
    logging.getLogger("sqlalchemy.engine").info("a library's chatter stays out")
    text = log_file.read_text()
    assert "INFO triage.test: ranked 12 items" in text
    assert "chatter" not in text
    if os.name == "posix":
        assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    assert logs.start_logging() == log_file  # once per process: no second handler


def test_log_never_holds_the_home_folder_login_or_a_traceback(log_file, monkeypatch):
    home = str(Path.home())
    logging.getLogger("triage.test").warning("cannot read %s/extracts/intel.csv", home)
    try:
        raise ValueError("cell value Ana Silva 1970-01-01")
    except ValueError:
        logging.getLogger("triage.test").exception("import failed")
    text = log_file.read_text()
    assert home not in text
    assert "cannot read ~/extracts/intel.csv" in text
    assert "import failed (ValueError)" in text
    assert "Ana Silva" not in text and "Traceback" not in text


def test_login_name_is_replaced_whole_words_only(monkeypatch):
    monkeypatch.setattr(logs.getpass, "getuser", lambda: "asilva")
    redact = logs.Redact()
    assert redact.text("owner asilva, asilvan") == "owner <user>, asilvan"


def test_log_rotates_at_its_size_limit(log_file, monkeypatch):
    handlers = logging.getLogger().handlers
    handler = next(h for h in handlers if isinstance(h, logging.handlers.RotatingFileHandler))
    monkeypatch.setattr(handler, "maxBytes", 2000)
    for n in range(200):
        logging.getLogger("triage.test").info("event number %d happened", n)
    rotated = sorted(p.name for p in log_file.parent.glob("triage.log*"))
    assert rotated == ["triage.log", "triage.log.1", "triage.log.2", "triage.log.3"]
    assert all(p.stat().st_size <= 2000 for p in log_file.parent.glob("triage.log*"))
    assert "event number 199" in log_file.read_text()


def test_crash_report_beside_the_log(log_file):
    try:
        raise RuntimeError(f"boom in {Path.home()}/x")
    except RuntimeError as error:
        path, text = logs.write_crash_report(
            type(error), error, error.__traceback__, "triage 9.9 (commit abc, built today)"
        )
    assert path.parent == log_file.parent and path.name.startswith("crash-")
    assert path.read_text() == text
    assert "triage 9.9 (commit abc, built today)" in text
    assert "RuntimeError: boom in ~/x" in text and "test_crash_report_beside_the_log" in text
    assert f"uncaught RuntimeError: crash report {path.name} written" in log_file.read_text()


def test_about_lists_build_data_versions_and_licences(db):
    facts = about.about(db)
    labels = dict(facts.facts())
    assert labels["Version"] == facts.build.version
    assert labels["Build date"] == about.NOT_PACKAGED  # a source tree
    assert labels["Database schema"].startswith(facts.schema_head)
    from triage.em.pack import default_pack
    from triage.intel.ranking import pack_in_force

    assert labels["Intelligence rule pack"] == pack_in_force().version
    assert labels["EM rule pack"] == default_pack().version
    assert labels["Harm model"] == "none active"
    names = {c.name.lower().replace("_", "-"): c for c in facts.components}
    assert {"python", "triage", "pyside6-essentials", "scikit-learn", "sqlalchemy"} <= set(names)
    assert "pytest" not in names  # development tools are not part of the app
    assert names["scikit-learn"].licence and names["sqlalchemy"].licence == "MIT"
    assert "Components:" in facts.text()


def test_packaged_build_reads_its_recorded_build_and_components(tmp_path, monkeypatch):
    (tmp_path / about.BUILD_INFO).write_text(
        json.dumps({"version": "1.2.3", "commit": "0123abcd", "built": "2026-12-06"})
    )
    about.write_components(str(tmp_path / about.COMPONENTS))
    monkeypatch.setattr(paths, "bundle_root", lambda: tmp_path)
    assert about.build_info().line() == "triage 1.2.3 (commit 0123abcd, built 2026-12-06)"
    assert about.components() == about.runtime_components()
