"""Starting the desktop app: ``triage-desk [--db PATH] [--presenter] [--smoke]``.

The first run (no database at the resolved path) fills a demo database off
the UI thread behind a progress dialog, so the app is useful at once.
``--smoke`` checks a build end to end without a user: a demo database in a
temporary folder, ranked, shown in the main window, a tasking statistics
export written; exit status 0, or 1 with the reason on stderr.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path

# The smoke test's demo is small so a packaged build checks itself in seconds;
# the first run builds the full calibrated demo (a few seconds, docs/demo-data.md)
# so the statistics reproduce the published figures at once.
SMOKE_INTEL = 6000
SMOKE_EM = 400
# The command line's description: a constant, not this module's docstring,
# which the packaged app's bytecode leaves out (python -OO, triage-desk.spec).
DESCRIPTION = "Starting the desktop app: triage-desk [--db PATH] [--presenter] [--smoke]."
log = logging.getLogger("ui.app")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="triage-desk", description=DESCRIPTION)
    parser.add_argument("--db", help="database file (else $TRIAGE_DB, else the user data folder)")
    parser.add_argument("--presenter", action="store_true", help="larger type for a projector")
    parser.add_argument("--smoke", action="store_true", help="self-test a build, then exit")
    parser.add_argument("--version", action="store_true", help="print the version and build")
    return parser.parse_args(argv)


def create_demo(path: Path, job=None, *, small: bool = False) -> None:
    from triage.demo.generator import create_demo_database

    if small:
        create_demo_database(path, intel=SMOKE_INTEL, em=SMOKE_EM, job=job)
    else:
        create_demo_database(path, job=job)


def first_run(app, path: Path) -> None:
    """Fill a demo database at ``path`` behind a progress dialog (UI stays live)."""
    from PySide6.QtCore import QEventLoop, Qt
    from PySide6.QtWidgets import QMessageBox, QProgressDialog

    from ui import theme
    from ui.plain import text as plain_text
    from ui.tasks import Tasks

    dialog = QProgressDialog(
        "Creating a demo database so you can try Triage at once…", None, 0, 1000
    )
    dialog.setWindowTitle("Triage — first run")
    theme.style(dialog)
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.setMinimumDuration(0)
    dialog.setValue(0)
    loop = QEventLoop()
    failure: list[str] = []
    tasks = Tasks()

    def progress(fraction: float, message: str) -> None:
        dialog.setValue(round(fraction * 1000))
        if message:
            dialog.setLabelText(f"Creating a demo database… {message}")

    tasks.write(
        lambda job: create_demo(path, job),
        on_done=lambda _r: loop.quit(),
        on_fail=lambda m: (failure.append(m), loop.quit()),
        on_progress=progress,
    )
    loop.exec()
    dialog.close()
    if failure:
        QMessageBox.warning(
            None,
            "Triage",
            plain_text(
                f"The demo database could not be made ({failure[0]}); starting with an empty one."
            ),
        )


def smoke() -> int:
    """Self-test: demo data, ranking, the main window, a statistics export."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="triage-smoke-") as folder:
        os.environ["TRIAGE_HOME"] = folder
        try:
            from PySide6.QtWidgets import QApplication

            from triage.intel import ranking
            from triage.stats import exports, tasking
            from triage.stats.period import Period
            from triage.store.db import open_database
            from triage.users.accounts import sign_in
            from ui import identity
            from ui.main_window import MainWindow

            app = QApplication.instance() or QApplication([])
            path = Path(folder) / "smoke.sqlite"
            create_demo(path, small=True)
            db = open_database(path)
            identity.sign_in(sign_in(db, None, None))  # a new database: its one user
            run = ranking.refresh(db)
            if not run.items:
                raise RuntimeError("the demo database ranked no items")
            window = MainWindow(db)
            window.tasks.wait()
            app.processEvents()
            queue = window.page("intel").model
            if queue.rowCount() == 0:
                raise RuntimeError("the intelligence queue is empty after ranking")
            figure9 = tasking.figure9(tasking.compute(db, Period.resolve()))
            if not figure9.rows:
                raise RuntimeError("the tasking statistics have no rows to export")
            exports.write_csv(figure9, Path(folder) / "figure9.csv")
            window.close()
            db.close()
            print(
                f"smoke ok: {run.items} items ranked, {queue.rowCount()} in the open queue, "
                f"{len(figure9.rows)} statistics rows exported"
            )
            return 0
        except Exception as error:
            traceback.print_exc()
            print(f"smoke FAILED: {error}", file=sys.stderr)
            return 1


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.version:
        from triage.ops.about import build_info

        print(build_info().line().replace("triage", "triage-desk", 1))
        return 0
    if args.smoke:
        return smoke()
    from triage.private_files import private_umask

    # Exports, logs and databases the app writes are readable by the user only.
    with private_umask():
        start_support()
        code = run_app(args)
        log.info("closed with exit status %s", code)
        return code


def start_support() -> None:
    """The log file, and the crash dialog for any exception nothing handled."""
    import platform

    from triage import logs
    from triage.ops.about import build_info
    from ui import crash

    logs.start_logging()
    crash.install()
    log.info("%s starting on %s", build_info().line(), platform.platform())


def run_app(args: argparse.Namespace) -> int:
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication, QMessageBox

    from triage import paths, settings
    from triage.store.faults import StoreUnavailable
    from ui import identity, login, plain, theme
    from ui.main_window import MainWindow, keep_startup_objects_out_of_full_collections
    from ui.passphrase import open_asking

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Triage")
    app.setWindowIcon(QIcon(str(paths.bundled("ui", "icons", "triage.png"))))
    theme.apply(app, presenter=args.presenter)
    url = paths.database_url(args.db)  # a team's server: never a local file
    try:
        # As the CLI: a folder or a missing folder is refused, not made.
        path = paths.usable_db_path(args.db) if url is None else None
    except paths.UnusableDatabasePath as error:
        QMessageBox.critical(None, "Triage", plain.text(str(error)))
        return 2
    if path is not None and not path.exists():
        first_run(app, path)
    stored = settings.load()
    where = url or path
    assert where is not None
    try:
        db = open_asking(where, None, stored.backups_kept)
    except Exception as error:
        shown = paths.without_password(str(where))
        QMessageBox.critical(
            None, "Triage", plain.text(f"Cannot open the database {shown}:\n{error}")
        )
        return 3 if isinstance(error, StoreUnavailable) else 2
    if db is None:  # an encrypted database, its passphrase not given
        return 3
    actor = login.sign_in_to(db)
    if actor is None:
        db.close()
        return 4  # nobody signed in: nothing is shown
    identity.sign_in(actor)
    log.info("database opened (schema %s)", db_schema(db))
    stored.remember_database(db.location)
    settings.save(stored)
    window = MainWindow(db)
    window.show()
    keep_startup_objects_out_of_full_collections()
    code = app.exec()
    window.tasks.wait()
    db.close()
    return code


def db_schema(db) -> str:
    from triage.store.db import schema_revision

    return schema_revision(db.engine) or "none"


if __name__ == "__main__":
    sys.exit(main())
