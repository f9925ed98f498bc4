"""The desktop app driven through its real widgets (pytest-qt, offscreen):
the queue and its filters, a whole meeting from the keyboard, an import with
bad rows fixed in the quarantine view."""

from __future__ import annotations

from datetime import date

import pytest
from actors import EVERYONE, as_user
from meeting_fixtures import REGION, TEAM, ranked, standard_items
from PySide6.QtCore import Qt
from sqlalchemy import func, select

from triage import settings
from triage.store.models import (
    AuditEntry,
    IntelItem,
    QuarantinedRow,
    TaskingMeeting,
    TaskingOutcome,
)
from ui import identity
from ui.main_window import MainWindow

# The offscreen platform cannot resize native windows; harmless, and only there.
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


@pytest.fixture
def window(qtbot, db):
    standard_items(db, 20)
    ranked(db)
    main = MainWindow(db)
    qtbot.addWidget(main)
    main.show()
    yield main
    main.tasks.wait()
    main.close()


def stored(db, statement):
    with db.sessions() as session:
        return session.execute(statement).all()


def test_queue_shows_ranked_items_and_filters_in_sql(window, qtbot):
    view = window.page("intel")
    model = view.model
    qtbot.waitUntil(lambda: model.rowCount() == 21)  # every open item, bucket order
    assert model.data(model.index(0, 0)) == "1"
    assert model.data(model.index(0, 1)).startswith("1 · National campaign")
    view.bucket.setCurrentIndex(view.bucket.findText("Low priority (5-6)"))
    qtbot.waitUntil(lambda: model.rowCount() == 8)
    assert all(model.row_data(r)["bucket"] in (5, 6) for r in range(model.rowCount()))
    view.bucket.setCurrentIndex(0)
    view.text.setText("INT-STALE")
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=3000)
    assert "stale" in model.data(model.index(0, 4))  # flags say it in words
    qtbot.waitUntil(lambda: "Bucket 4" in view.trace_view.toPlainText())  # off the UI thread
    assert "INT-STALE" in view.item_view.toPlainText()
    assert "linked" in view.linked_view.toPlainText()  # same subject_ref P-77
    assert view.count_label.text() == "1 items"


def test_a_whole_meeting_from_the_keyboard(window, qtbot, db, monkeypatch):
    meetings_view = window.show_page("meetings")
    mode = meetings_view.mode
    meetings_view.start(
        region=REGION, team=TEAM, held_on=date(2026, 11, 20), attendees=["Ana"], capacity=4
    )
    qtbot.waitUntil(lambda: mode.meeting_id is not None and bool(mode.rows), timeout=5000)
    assert mode.counter.text() == "Accepted 0 / 4"
    rows = list(mode.rows)
    qtbot.keyClick(mode, Qt.Key.Key_U)  # nothing decided yet
    qtbot.waitUntil(lambda: "Nothing to undo" in mode.banner.text() and not mode.busy)

    def outcome_of(item_id):
        found = stored(
            db,
            select(TaskingOutcome.decision, TaskingOutcome.reason).where(
                TaskingOutcome.item_id == item_id
            ),
        )
        return tuple(found[0]) if found else None

    qtbot.keyClick(mode, Qt.Key.Key_A)
    qtbot.waitUntil(lambda: outcome_of(rows[0].item_id) == ("accepted", None))
    qtbot.waitUntil(lambda: mode.current == 1 and not mode.busy)
    assert mode.counter.text() == "Accepted 1 / 4"
    qtbot.keyClick(mode, Qt.Key.Key_R)
    assert mode.reason_panel.isVisibleTo(mode)
    qtbot.keyClicks(mode, "²")  # a digit to Python, not a reason key
    assert mode.rejecting and outcome_of(rows[1].item_id) is None
    qtbot.keyClick(mode, Qt.Key.Key_4)  # 4 = duplicate in reasons.toml
    qtbot.waitUntil(lambda: outcome_of(rows[1].item_id) == ("rejected", "duplicate"))
    qtbot.waitUntil(lambda: not mode.busy)
    qtbot.keyClick(mode, Qt.Key.Key_U)  # undo the rejection
    qtbot.waitUntil(lambda: outcome_of(rows[1].item_id) is None)
    qtbot.waitUntil(lambda: not mode.busy and mode.current == 1)
    qtbot.keyClick(mode, Qt.Key.Key_N)
    qtbot.waitUntil(lambda: outcome_of(rows[1].item_id) == ("not_discussed", None))
    qtbot.waitUntil(lambda: not mode.busy)
    # J/K move; the stale item asks for its re-check before it can be accepted.
    stale = next(n for n, r in enumerate(mode.rows) if r.intel_id == "INT-STALE")
    while mode.current < stale:
        qtbot.keyClick(mode, Qt.Key.Key_J)
    qtbot.keyClick(mode, Qt.Key.Key_K)
    assert mode.current == stale - 1
    qtbot.keyClick(mode, Qt.Key.Key_J)
    qtbot.keyClick(mode, Qt.Key.Key_A)
    assert "stale" in mode.banner.text().lower() and not mode.busy
    assert outcome_of(mode.rows[stale].item_id) is None
    qtbot.keyClick(mode, Qt.Key.Key_C)
    qtbot.waitUntil(lambda: not mode.busy and not mode.rows[stale].needs_recheck)
    qtbot.keyClick(mode, Qt.Key.Key_A)
    qtbot.waitUntil(lambda: outcome_of(mode.rows[stale].item_id) == ("accepted", None))
    qtbot.waitUntil(lambda: not mode.busy)
    # Presenter view hides the personal columns; ? toggles the help line.
    qtbot.keyClick(mode, Qt.Key.Key_P)
    assert mode.presenter and "Business" not in mode.card.text()
    qtbot.keyClick(mode, Qt.Key.Key_Question, Qt.KeyboardModifier.ShiftModifier)
    assert not mode.help.isVisibleTo(mode)
    # Close: everything undecided becomes not discussed and carries over.
    mode.close_meeting(confirm=False)
    meeting_id = mode.meeting_id
    qtbot.waitUntil(
        lambda: (
            stored(db, select(TaskingMeeting.status).where(TaskingMeeting.id == meeting_id))[0][0]
            == "closed"
        )
    )
    counts = dict(
        stored(
            db,
            select(TaskingOutcome.decision, func.count())
            .where(TaskingOutcome.meeting_id == meeting_id)
            .group_by(TaskingOutcome.decision),
        )
    )
    assert counts == {"accepted": 2, "not_discussed": len(rows) - 2}
    carried = stored(
        db, select(func.count()).select_from(IntelItem).where(IntelItem.carry_over_count == 1)
    )[0][0]
    assert carried == len(rows) - 2
    actions = [a for (a,) in stored(db, select(AuditEntry.action))]
    assert actions.count("meeting.decide") == 4 and "meeting.undo" in actions
    assert actions.count("meeting.close.carry_over") == len(rows) - 2
    qtbot.waitUntil(lambda: "Meeting closed" in mode.banner.text())
    assert not mode.accept_button.isEnabled()
    # Reopened later, a closed meeting says why its keys do nothing, and stays as it was.
    mode.open_meeting(meeting_id)
    for key in (Qt.Key.Key_A, Qt.Key.Key_U):
        qtbot.keyClick(mode, key)
        assert "not open (closed)" in mode.banner.text() and not mode.busy
    assert [a for (a,) in stored(db, select(AuditEntry.action))] == actions


def test_meeting_keys_still_work_after_visiting_another_screen(window, qtbot):
    from PySide6.QtWidgets import QApplication

    view = window.show_page("meetings")
    view.start(region=REGION, team=TEAM, held_on=date(2026, 11, 20), capacity=3)
    mode = view.mode
    qtbot.waitUntil(lambda: mode.meeting_id is not None and bool(mode.rows), timeout=5000)
    window.nav.setFocus()
    window.show_page("intel")
    window.show_page("meetings")
    assert QApplication.focusWidget() is mode
    view.show_home()
    window.show_page("intel")
    window.show_page("meetings")
    assert QApplication.focusWidget() is not mode


def test_the_agenda_hides_the_model_score_until_an_item_is_decided(window, qtbot, db):
    from sqlalchemy import update

    from triage.meetings.models import MeetingAgendaItem
    from ui.meeting_view import AGENDA_COLUMNS

    view = window.show_page("meetings")
    view.start(region=REGION, team=TEAM, held_on=date(2026, 11, 20), capacity=3)
    mode = view.mode
    qtbot.waitUntil(lambda: mode.meeting_id is not None and bool(mode.rows), timeout=5000)
    with db.transaction() as session:  # as if a model had scored the agenda
        session.execute(update(MeetingAgendaItem).values(harm_score=0.42))
    mode.reload()
    column = [key for key, _header in AGENDA_COLUMNS].index("harm_score")
    assert mode.table.item(0, column).text() == ""
    qtbot.keyClick(mode, Qt.Key.Key_A)
    qtbot.waitUntil(lambda: mode.rows[0].decision == "accepted" and not mode.busy)
    assert mode.table.item(0, column).text() == "0.42"
    assert mode.table.item(1, column).text() == ""


BAD_CSV = """intel_id,received_at,region,team,allegation,summary
IMP-1,2026-11-01T10:00:00,LSE,London North,overstayer,first
IMP-2,not a date,LSE,London North,overstayer,second
IMP-3,2026-11-02,Atlantis,London North,other,third
IMP-4,2026-11-03,LSE,London North,illegal_working,fourth
"""


def test_import_with_bad_rows_fix_one_in_the_quarantine(window, qtbot, db, tmp_path):
    path = tmp_path / "extract.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    view = window.show_page("imports")
    with qtbot.waitSignal(view.import_finished, timeout=10000):
        view.import_path(str(path))
    assert "2 quarantined" in view.summary.text()
    panel = view.quarantine
    assert panel.list.rowCount() == 2
    bad = next(n for n, r in enumerate(panel.rows) if r.line_no == 3)
    panel.list.selectRow(bad)
    cells = panel.cells
    row = next(n for n in range(cells.rowCount()) if cells.item(n, 0).text() == "received_at")
    cells.item(row, 1).setText("2026-11-05T09:30:00")
    panel.reimport()
    qtbot.waitUntil(lambda: "imported" in panel.message.text(), timeout=5000)
    assert panel.list.rowCount() == 1
    assert stored(db, select(IntelItem.intel_id).where(IntelItem.intel_id == "IMP-2"))
    assert stored(db, select(QuarantinedRow.status).where(QuarantinedRow.line_no == 3)) == [
        ("resolved",)
    ]
    # The import is followed by a re-rank on the writer thread.
    qtbot.waitUntil(lambda: "Ranked" in window.job_label.text(), timeout=10000)


def test_discard_a_junk_row_from_the_quarantine(window, qtbot, db, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    path = tmp_path / "extract.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    view = window.show_page("imports")
    with qtbot.waitSignal(view.import_finished, timeout=10000):
        view.import_path(str(path))
    panel = view.quarantine
    assert panel.list.rowCount() == 2
    junk = next(n for n, r in enumerate(panel.rows) if r.line_no == 4)
    panel.list.selectRow(junk)
    panel.discard("  ")
    assert "Say why" in panel.message.text() and panel.list.rowCount() == 2
    # The button asks for the reason; a cancelled dialog discards nothing.
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("", False))
    qtbot.mouseClick(panel.discard_button, Qt.MouseButton.LeftButton)
    assert panel.list.rowCount() == 2
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("a test row", True))
    with qtbot.waitSignal(panel.changed, timeout=5000):
        qtbot.mouseClick(panel.discard_button, Qt.MouseButton.LeftButton)
    assert "Line 4 discarded" in panel.message.text()
    assert [r.line_no for r in panel.rows] == [3] and panel.list.rowCount() == 1
    assert stored(db, select(QuarantinedRow.status).where(QuarantinedRow.line_no == 4)) == [
        ("discarded",)
    ]
    assert stored(
        db,
        select(AuditEntry.new_value).where(AuditEntry.action == "quarantine_discarded"),
    ) == [("a test row",)]
    assert not stored(db, select(IntelItem.id).where(IntelItem.intel_id == "IMP-3"))


def test_an_import_cancelled_from_the_app_changes_nothing(window, qtbot, db, tmp_path):
    import threading

    path = tmp_path / "extract.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    view = window.show_page("imports")
    # Hold the single writer so that Cancel is pressed before the import starts.
    release = threading.Event()
    window.tasks.write(lambda job: release.wait(10))
    view.import_path(str(path))
    assert view.cancel_button.isEnabled()
    qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    release.set()
    qtbot.waitUntil(lambda: "cancelled" in view.summary.text(), timeout=10000)
    assert "nothing was changed" in view.summary.text() and view.job is None
    assert stored(db, select(IntelItem.id).where(IntelItem.intel_id.like("IMP-%"))) == []
    assert stored(db, select(QuarantinedRow.id)) == []


def test_non_canonical_headers_use_a_saved_mapping_profile(window, qtbot, db, tmp_path):
    stored_settings = settings.load()
    stored_settings.mapping_profiles["Casework weekly"] = {
        "Ref": "intel_id",
        "Date Received": "received_at",
        "Area": "region",
    }
    settings.save(stored_settings)
    path = tmp_path / "casework.csv"
    path.write_text("Ref,Date Received,Area\nCW-1,2026-11-10,LSE\n", encoding="utf-8")
    view = window.show_page("imports")
    with qtbot.waitSignal(view.import_finished, timeout=10000):
        view.import_path(str(path))
    assert "Casework weekly" in view.summary.text() or "1 new" in view.summary.text()
    assert stored(db, select(IntelItem.region).where(IntelItem.intel_id == "CW-1")) == [("LSE",)]


def test_rules_screen_shows_the_pack_in_force(window):
    view = window.show_page("rules")
    assert "Valid" in view.status.text()
    assert "Bucket rules" in view.pack_view.toPlainText()


def test_status_bar_and_placeholders(window, qtbot):
    qtbot.waitUntil(lambda: "21 items" in window.counts_label.text())
    assert window.db.location in window.db_label.text()
    for key in ("em", "stats", "model"):
        assert window.show_page(key) is not None


def test_a_recent_database_that_was_deleted_is_not_recreated(window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    gone = tmp_path / "moved-away.sqlite"
    stored_settings = settings.load()
    stored_settings.recent_databases = [str(gone)]
    settings.save(stored_settings)
    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: warned.append(args[2]))
    before = window.db
    window.open_recent(str(gone))
    assert not gone.exists() and window.db is before
    assert "no longer exists" in warned[0]
    assert settings.load().recent_databases == []


@pytest.mark.sqlite_only("File > New picks a file; the one open is a file only on SQLite")
def test_new_database_refuses_to_overwrite_the_open_one(window, monkeypatch):
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: warned.append(args[2]))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: (str(window.db.path), ""))
    before = window.db
    window.new_database()
    assert "open now" in warned[0] and window.db is before
    assert stored(before, select(func.count()).select_from(IntelItem))[0][0] == 21


def test_smoke_self_test_passes(qtbot, capsys):
    from ui.app import main

    assert main(["--smoke"]) == 0
    assert "smoke ok" in capsys.readouterr().out


def test_a_long_queue_shows_its_first_page_then_appends_the_rest(qtbot, db):
    from meeting_fixtures import add_items

    from triage.intel import ranking
    from ui.queue_model import FIRST_PAGE, IntelQueueModel
    from ui.tasks import Tasks

    add_items(db, [{"intel_id": f"L-{n:04d}", "age_days": n % 50} for n in range(1200)])
    ranked(db)
    tasks = Tasks()
    model = IntelQueueModel(db, tasks)
    with qtbot.waitSignal(model.first_page_ready, timeout=10000):
        model.set_filters()
        assert model.rowCount() == 0  # nothing blocks the UI thread
    assert model.rowCount() == FIRST_PAGE and not model.complete
    with qtbot.waitSignal(model.queue_complete, timeout=10000) as blocker:
        pass
    assert blocker.args == [1200] and model.complete
    with db.sessions() as session:
        assert model.ids.tolist() == ranking.queue_ids(session)
    assert model.data(model.index(1199, 5)).startswith("L-")  # rows load lazily, by page
    assert len(model._cache) <= 2 * 200
    tasks.wait()


def test_replay_preview_of_a_changed_pack(window, qtbot, tmp_path):
    import shutil

    from triage.paths import bundled

    changed = tmp_path / "pack"
    shutil.copytree(bundled("rules", "intel"), changed)
    buckets = changed / "buckets.toml"
    text = buckets.read_text(encoding="utf-8")
    # Business items need 10 people instead of 5: the fixture's 8-person items leave bucket 3.
    buckets.write_text(
        text.replace('test = "at_least", value = 5', 'test = "at_least", value = 10'),
        encoding="utf-8",
    )
    view = window.show_page("rules")
    view.preview(str(changed))
    qtbot.waitUntil(lambda: "would move bucket" in view.replay_view.toPlainText(), timeout=10000)
    assert "4 would move bucket" in view.replay_view.toPlainText()
    buckets.write_text("this is [not toml", encoding="utf-8")
    view.preview(str(changed))
    qtbot.waitUntil(lambda: "refused" in view.replay_view.toPlainText(), timeout=10000)
    assert "buckets.toml" in view.replay_view.toPlainText()


def test_mapping_dialog_needs_the_required_columns(qtbot):
    from ui.imports_view import MappingDialog

    dialog = MappingDialog("casework.csv", ["Ref", "Date Received", "Area", "Notes"])
    qtbot.addWidget(dialog)
    assert dialog.selected_kind() == "intel"
    dialog._check()
    assert "intel_id" in dialog.problem.text() and not dialog.result()
    for combo, target in zip(
        dialog.combos, ("intel_id", "received_at", "region", "summary"), strict=True
    ):
        combo.setCurrentIndex(combo.findData(target))
    dialog._check()
    assert dialog.result() == dialog.DialogCode.Accepted
    assert dialog.mapping() == {
        "Ref": "intel_id",
        "Date Received": "received_at",
        "Area": "region",
        "Notes": "summary",
    }


def test_first_run_fills_a_demo_database_behind_a_progress_dialog(qtbot, tmp_path):
    from PySide6.QtWidgets import QApplication

    from ui.app import first_run

    path = tmp_path / "first.sqlite"
    first_run(QApplication.instance(), path)
    assert stored_count(path, "intel_item") == 29443
    assert stored_count(path, "em_case") == 1732


def stored_count(path, table: str) -> int:
    import sqlite3

    with sqlite3.connect(path) as connection:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_results_panel_records_what_an_accepted_task_led_to(window, qtbot, db):
    from triage.meetings import operations as meetings

    meeting_id = meetings.start_meeting(
        db, region=REGION, team=TEAM, held_on=date(2026, 11, 20), actor=EVERYONE
    )
    with db.sessions() as session:
        first = meetings.agenda(session, meeting_id)[0]
    meetings.decide(
        db, meeting_id=meeting_id, item_id=first.item_id, decision="accepted", actor=EVERYONE
    )
    view = window.show_page("meetings")
    panel = view.results
    window.tasks.wait()
    qtbot.wait(1)
    # Behind the meeting list's tab, the results are not read until shown.
    assert panel.model.rowCount() == 0
    view.tabs.setCurrentWidget(panel)  # read on a reader thread, shown when it comes back

    def result_shown() -> str | None:
        index = panel.model.index(0, 3)
        return index.data() if index.isValid() else None

    qtbot.waitUntil(lambda: result_shown() == "· awaiting result")
    panel.table.selectRow(0)
    panel.result.setCurrentIndex(panel.result.findData("arrest"))
    panel.record()
    qtbot.waitUntil(lambda: panel.message.text() == "Recorded.")
    assert stored(
        db, select(TaskingOutcome.result).where(TaskingOutcome.item_id == first.item_id)
    ) == [("arrest",)]
    qtbot.waitUntil(lambda: result_shown() == "Arrest")


def test_meeting_exports_agenda_and_minutes_off_the_ui_thread(window, qtbot, tmp_path):
    view = window.show_page("meetings")
    view.start(region=REGION, team=TEAM, held_on=date(2026, 11, 20), capacity=3)
    mode = view.mode
    # Generous waits: they end as soon as the export is done, and on a busy
    # machine writing the minutes PDF alone took over the 5 s default.
    qtbot.waitUntil(lambda: mode.meeting_id is not None and bool(mode.rows), timeout=30000)
    qtbot.keyClick(mode, Qt.Key.Key_P)  # presenter: the export leaves personal fields out
    mode.export("agenda", str(tmp_path / "agenda.csv"))
    qtbot.waitUntil(lambda: "Exported agenda" in mode.banner.text(), timeout=30000)
    header = (tmp_path / "agenda.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "intel_id" in header and "postcode" not in header
    mode.export("minutes", str(tmp_path / "minutes.pdf"))
    qtbot.waitUntil(lambda: "Exported minutes" in mode.banner.text(), timeout=30000)
    assert (tmp_path / "minutes.pdf").read_bytes().startswith(b"%PDF")


def test_discard_acts_on_the_row_the_dialog_named(window, qtbot, db, tmp_path, monkeypatch):
    # The reason dialog runs its own event loop: a re-import that finishes
    # meanwhile refreshes the list, and the selection then falls on the next
    # row. The discard must still be of the row the dialog asked about.
    from PySide6.QtWidgets import QInputDialog

    path = tmp_path / "extract.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    view = window.show_page("imports")
    with qtbot.waitSignal(view.import_finished, timeout=10000):
        view.import_path(str(path))
    panel = view.quarantine
    panel.list.selectRow(next(n for n, r in enumerate(panel.rows) if r.line_no == 3))
    cells = panel.cells
    row = next(n for n in range(cells.rowCount()) if cells.item(n, 0).text() == "received_at")
    cells.item(row, 1).setText("2026-11-05T09:30:00")
    panel.reimport()  # queued on the writer thread

    def answer_after_the_reimport(*_args, **_kwargs):
        qtbot.waitUntil(lambda: "imported" in panel.message.text(), timeout=5000)
        return "a test row", True

    monkeypatch.setattr(QInputDialog, "getText", answer_after_the_reimport)
    qtbot.mouseClick(panel.discard_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "already resolved" in panel.message.text(), timeout=5000)
    assert stored(
        db, select(QuarantinedRow.line_no, QuarantinedRow.status).order_by(QuarantinedRow.line_no)
    ) == [(3, "resolved"), (4, "open")]
    assert [r.line_no for r in panel.rows] == [4]


def test_why_this_rank_opens_with_plain_english_and_why_below_the_row_above(window, qtbot):
    view = window.page("intel")
    model = view.model
    qtbot.waitUntil(lambda: model.rowCount() == 21)
    qtbot.waitUntil(lambda: "is in bucket 1 because" in view.trace_view.toPlainText())
    assert "Why below" not in view.trace_view.toPlainText()  # the first row has nothing above
    view.table.selectRow(1)
    above = model.row_data(0)["intel_id"]
    qtbot.waitUntil(lambda: f"Why below {above}:" in view.trace_view.toPlainText())
    text = view.trace_view.toPlainText()
    assert text.index("days old") < text.index("Details")  # the paragraph, then the details


def test_notes_and_decision_history_in_the_detail_pane(window, qtbot, db, monkeypatch):
    from triage.intel import notes

    identity.sign_in(as_user("Sam Patel"))  # reset after the test by the conftest
    view = window.page("intel")
    qtbot.waitUntil(lambda: view.model.rowCount() == 21)
    view.table.selectRow(0)
    item_id = view.model.item_id(0)
    qtbot.waitUntil(lambda: "Not yet discussed" in view.history_view.toPlainText())
    view.note_text.setPlainText("Checked the premises: still trading.")
    view.note_button.click()
    qtbot.waitUntil(lambda: "still trading" in view.history_view.toPlainText())
    assert "Sam Patel" in view.history_view.toPlainText()
    assert view.note_text.toPlainText() == ""
    with db.sessions() as session:
        assert [n["author"] for n in notes.notes(session, item_id)] == ["Sam Patel"]
    view.note_button.click()  # an empty note is refused, with the reason
    qtbot.waitUntil(lambda: "a note needs some text" in view.note_message.text())


def test_the_agenda_scrolls_a_page_at_a_time_and_the_card_follows(window, qtbot):
    # Scrolling repaints the whole agenda: kept one line per key, it was most
    # of a decision's UI-thread time once the current line reached the bottom.
    meetings_view = window.show_page("meetings")
    mode = meetings_view.mode
    meetings_view.start(
        region=REGION, team=TEAM, held_on=date(2026, 11, 20), attendees=[], capacity=10
    )
    qtbot.waitUntil(lambda: mode.meeting_id is not None and bool(mode.rows), timeout=5000)
    bar = mode.table.verticalScrollBar()
    assert bar.maximum() > 0  # the agenda is longer than the screen
    offsets = []
    while mode.current < len(mode.rows) - 1:
        qtbot.keyClick(mode, Qt.Key.Key_J)
        line = mode.table.visualRect(mode.table.model().index(mode._table_row(mode.current), 0))
        assert line.top() >= 0 and line.bottom() <= mode.table.viewport().height()
        offsets.append(bar.value())
        row = mode.rows[mode.current]
        assert f"#{row.position} · {row.intel_id}" in mode.card.text()
    assert offsets[0] == 0 and len(set(offsets)) <= 3  # a page at a time, not a line per key
    assert "Bucket  " in mode.card.text()


def test_agenda_columns_fit_their_text_in_both_views(window, qtbot):
    meetings_view = window.show_page("meetings")
    mode = meetings_view.mode
    meetings_view.start(
        region=REGION, team=TEAM, held_on=date(2026, 11, 20), attendees=[], capacity=10
    )
    qtbot.waitUntil(lambda: mode.meeting_id is not None and bool(mode.rows), timeout=5000)
    table, header = mode.table, mode.table.horizontalHeader()
    for presenter in (False, True):  # presenter view: larger type, personal columns hidden
        mode.set_presenter(presenter)
        metrics = table.fontMetrics()
        shown = [c for c in range(table.columnCount()) if not table.isColumnHidden(c)]
        assert len(shown) < table.columnCount() if presenter else len(shown) == 12
        for col in shown:
            texts = [
                table.item(r, col).text()
                for r in range(table.rowCount())
                if table.item(r, col) is not None and table.columnSpan(r, 0) == 1
            ]
            widest = max(metrics.horizontalAdvance(t) for t in texts)
            assert widest < header.sectionSize(col) < widest + 480, (presenter, col)


def test_each_agenda_cell_sits_under_its_own_header(window, qtbot):
    """The agenda's texts are made in one list per line, in the headers' order."""
    from ui import labels
    from ui.meeting_view import AGENDA_COLUMNS

    view = window.show_page("meetings")
    view.start(region=REGION, team=TEAM, held_on=date(2026, 11, 20), capacity=3)
    mode = view.mode
    qtbot.waitUntil(lambda: mode.meeting_id is not None and bool(mode.rows), timeout=5000)
    column = {key: n for n, (key, _header) in enumerate(AGENDA_COLUMNS)}
    assert [mode.table.horizontalHeaderItem(n).text() for n in range(12)] == [
        header for _key, header in AGENDA_COLUMNS
    ]
    for n, row in enumerate(mode.rows):
        line = mode._table_row(n)

        def cell(key: str, line: int = line) -> str:
            return mode.table.item(line, column[key]).text()

        assert cell("position") == str(row.position)
        assert cell("intel_id") == row.intel_id
        assert cell("decision") == "· Undecided"
        assert cell("bucket") == labels.bucket_text(row.bucket)
        assert cell("score") == f"{row.score:.1f}"
        assert cell("age_days") == str(row.age_days)
        assert cell("carry_over_count") == str(row.carry_over_count)
        assert cell("flags") == labels.flag_text(row.flags)
        assert cell("allegation") == (row.allegation or "")
        assert cell("business_name") == (row.business_name or "")
        assert cell("postcode") == (row.postcode or "")
        assert cell("harm_score") == ""  # no model score on these items


def test_a_reload_keeps_the_current_line_selected(window, qtbot):
    """A refresh fills the agenda again; its current line stays the one marked
    in the table and shown on the card."""
    view = window.show_page("meetings")
    view.start(region=REGION, team=TEAM, held_on=date(2026, 11, 20), capacity=3)
    mode = view.mode
    qtbot.waitUntil(lambda: mode.meeting_id is not None and bool(mode.rows), timeout=5000)
    qtbot.keyClick(mode, Qt.Key.Key_J)
    qtbot.keyClick(mode, Qt.Key.Key_J)
    assert mode.current == 2
    mode.reload()
    row = mode.rows[2]
    assert [i.row() for i in mode.table.selectionModel().selectedRows()] == [mode._table_row(2)]
    assert f"#{row.position} · {row.intel_id}" in mode.card.text()
