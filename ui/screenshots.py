"""Make a PNG of each main screen into ``docs/screenshots/`` (for the README).

    .venv/bin/python -m ui.screenshots [--out docs/screenshots]

Runs the real app under Xvfb (re-launching itself through ``xvfb-run`` when
there is no display) on a fresh demo database in a temporary folder, with
the clock pinned so the pictures are reproducible.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

SIZE = (1600, 1000)


def shoot(out: Path) -> list[Path]:
    from PySide6.QtWidgets import QApplication, QTableView

    from triage.intel import ranking
    from triage.meetings import operations as meetings
    from triage.store.db import open_database
    from triage.users import ALL_ROLES, Actor
    from ui import app as desk
    from ui import identity, theme
    from ui.main_window import MainWindow

    # The pictures' decisions and model are made by a user with every role.
    SCREENSHOTS = Actor("screenshots", ALL_ROLES)  # noqa: N806
    qt = QApplication.instance() or QApplication([])
    theme.apply(qt, theme="light")  # reproducible: not the machine's scheme
    path = Path(os.environ["TRIAGE_HOME"]) / "demo.sqlite"
    desk.create_demo(path)
    db = open_database(path)
    identity.sign_in(SCREENSHOTS)
    ranking.refresh(db)
    window = MainWindow(db)
    window.resize(*SIZE)
    window.show()
    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []

    def settle() -> None:
        # A finished job may start another (the queue's first page, then the rest).
        for _ in range(4):
            window.tasks.wait()
            for _ in range(5):
                qt.processEvents()

    def grab(name: str) -> None:
        settle()
        target = out / f"{name}.png"
        window.grab().save(str(target))
        saved.append(target)

    intel = window.show_page("intel")
    intel.region.setCurrentIndex(intel.region.findData("LSE"))
    intel.table.selectRow(2)
    grab("01-intelligence-queue")
    intel.detail_tabs.setCurrentIndex(2)
    grab("02-linked-items")

    view = window.show_page("meetings")
    view.refresh()
    grab("03-meetings")
    held_on = date(2026, 11, 27)
    meeting_id = meetings.start_meeting(
        db,
        region="LSE",
        team="London North",
        held_on=held_on,
        attendees=["A. Patel", "J. Morris", "K. Owusu"],
        actor=SCREENSHOTS,
    )
    mode = view.mode
    view.open_meeting(meeting_id)
    rows = mode.rows
    for row in rows[:3]:
        if not row.needs_recheck:
            meetings.decide(
                db,
                meeting_id=meeting_id,
                item_id=row.item_id,
                decision="accepted",
                actor=SCREENSHOTS,
            )
    meetings.decide(
        db,
        meeting_id=meeting_id,
        item_id=rows[3].item_id,
        decision="rejected",
        reason="duplicate",
        actor=SCREENSHOTS,
    )
    mode.reload()
    mode.select(4)
    grab("04-meeting-mode")
    mode.start_reject()
    grab("05-meeting-reject-reason")
    mode.cancel_reject()
    mode.presenter_box.setChecked(True)
    grab("06-meeting-presenter-view")
    mode.presenter_box.setChecked(False)
    view.show_home()

    bad = Path(os.environ["TRIAGE_HOME"]) / "weekly-extract.csv"
    bad.write_text(
        "intel_id,received_at,region,team,allegation,summary\n"
        "SHOT-1,2026-11-18T10:00:00,LSE,London North,overstayer,fine\n"
        "SHOT-2,18/11/2026,LSE,London North,overstayer,date in the wrong format\n"
        "SHOT-3,2026-11-18,Atlantis,London North,other,unknown region\n",
        encoding="utf-8",
    )
    imports = window.show_page("imports")
    imports.import_path(str(bad))
    settle()
    imports.quarantine.list.selectRow(0)
    grab("07-imports-quarantine")
    window.show_page("rules")
    grab("08-rules")
    # A trained (not activated) model, so the Model screen shows an evaluation.
    from triage.harm import training

    training.train(db, actor=SCREENSHOTS)
    for key, name in (("em", "09-em-caseload"), ("stats", "10-statistics"), ("model", "11-model")):
        page = window.show_page(key)
        settle()
        # Show a selected row's detail where the screen has a table.
        tables = [t for t in page.findChildren(QTableView) if t.model() and t.model().rowCount()]
        if tables:
            tables[0].selectRow(0)
        grab(name)
    em = window.show_page("em")
    em.tables["all"].selectRow(0)
    em.detail_tabs.setCurrentWidget(em.actions)
    grab("12-em-actions")
    window.show_page("settings")
    grab("13-settings")
    intel = window.show_page("intel")
    intel.detail_tabs.setCurrentIndex(3)
    grab("14-history-and-notes")
    theme.apply(qt, theme="dark")
    intel.detail_tabs.setCurrentIndex(0)
    grab("15-dark-theme")
    theme.apply(qt, theme="light")
    shoot_qa(window, db, grab)
    window.show_help()
    settle()
    assert window.help_dialog is not None
    target = out / "16-help.png"
    window.help_dialog.grab().save(str(target))
    saved.append(target)
    window.close()
    db.close()
    return saved


def shoot_qa(window, db, grab) -> None:
    """A QA sample of the demo's last 90 days, some of it scored by a reviewer."""
    from datetime import timedelta

    from triage import clock
    from triage.qa import operations as qa
    from triage.qa.scoring import Finding
    from triage.users import ALL_ROLES, Actor

    reviewer = Actor("qa-reviewer", ALL_ROLES)
    today = clock.to_local(clock.now()).date()
    drawn = qa.draw_sample(db, today - timedelta(days=90), today, seed=2026, actor=reviewer)
    reviews = [
        ([], "probably_correct"),
        ([Finding("minor"), Finding("minor")], "probably_correct"),
        ([Finding("significant")], "probably_correct"),
        ([], "probably_correct"),
        ([Finding("fail")], "probably_correct"),
        ([Finding("minor")], "probably_correct"),
        ([Finding("fail", "safeguarding")], "probably_correct"),
        ([], "probably_correct"),
    ]
    for decision, (errors, outcome) in zip(drawn.decisions, reviews, strict=False):
        qa.score_decision(
            db, decision["id"], points_checked=10, errors=errors, outcome=outcome, actor=reviewer
        )
    page = window.show_page("qa")
    page.refresh()
    page.table.selectRow(len(reviews))
    page.minor.setValue(1)
    grab("17-quality-assurance")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="docs/screenshots")
    args = parser.parse_args(argv)
    if not os.environ.get("DISPLAY") and os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        runner = shutil.which("xvfb-run")
        if runner is None:
            print("screenshots: no display and no xvfb-run (apt-get install xvfb)", file=sys.stderr)
            return 2
        command = [
            runner,
            "-a",
            "-s",
            f"-screen 0 {SIZE[0]}x{SIZE[1]}x24",
            sys.executable,
            "-m",
            "ui.screenshots",
            "--out",
            args.out,
        ]
        return subprocess.call(command)
    with tempfile.TemporaryDirectory(prefix="triage-shots-") as home:
        os.environ["TRIAGE_HOME"] = home
        os.environ.setdefault("TRIAGE_NOW", "2026-11-27T09:00:00")
        for target in shoot(Path(args.out)):
            print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
