"""A tasking meeting run from the real window (offscreen) against the core
operations it calls, measured in the same run on copies of one database.

    .venv/bin/python benchmarks/app_meeting.py              # the demo database
    .venv/bin/python benchmarks/app_meeting.py --items 100000

Steps, each timed in the app (from the click or keystroke until the screen
shows the result) and in the core: on an identical copy of the database,
with no window, the same core calls the app makes for that step (the
operation, then the reads that show its result: the agenda lines it changed
and the meeting's counts), and the operation alone as the CLI calls it.
Each is measured in wall time and in the process's CPU time (every thread),
which the machine's load inflates far less:

- start a meeting (whole region, capacity 30: an agenda of 60);
- decide 50 items by keystroke (A accept, R then a reason key, N not
  discussed; a stale item is not accepted), each timed from the key press to
  the agenda line redrawn with the stored decision, and to the moment the
  writer thread's core call returned (committed): keystroke-to-stored;
- close the meeting (its confirmation answered at once);
- show the EM caseload page after the meeting (core: the queue, its
  deadlines, each tab's rows and the caseworkers, as the page reads them;
  op: the queue alone).

Both copies are ranked first, so neither side's first step re-ranks. A 5 ms
heartbeat on the UI thread (``ui.heartbeat``) gives each step's longest
stall, in UI-thread CPU and wall time (goal: under 50 ms). The UI thread
waits in event loops, never a polling loop, so the writer thread it times
is not starved of the GIL. Last line: ``app/core ratio: X``, the worst
ratio of CPU time of the three meeting steps (issue 15.1: starting,
deciding and closing at most 2x the core operations they call); the line
before it gives the same in wall time. The EM page's line is printed with
its ratio too, but its goal is the UI stall (issue 15.2): its first showing
builds the screen, which no core call does, and on a database with almost no
EM cases (the synthetic ones) that fixed cost is set against a core step of
a few milliseconds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from triage.users import ALL_ROLES, Actor  # noqa: E402

EVERYONE = Actor("benchmark", ALL_ROLES)

REGION = "LSE"
CAPACITY = 30
DECISIONS = 50
HELD_ON = date(2026, 12, 7)


def build_database(path: Path, items: int | None) -> None:
    """The calibrated demo database, or ``items`` synthetic ones; ranked."""
    from triage.intel import ranking
    from triage.store.db import open_database

    if items is None:
        from triage.demo.generator import create_demo_database

        create_demo_database(path)
    else:
        sys.path.insert(0, str(Path(__file__).parent))
        from bench_ui import build

        build(path, items)
    db = open_database(path)
    ranking.ensure_current(db)
    db.close()


def plan(rows: list[Any], reject_code: str) -> list[tuple[int, str, str | None]]:
    """(item id, decision, reason) for the first DECISIONS agenda lines, in
    order: the app decides the current line, then moves to the next undecided."""
    chosen = []
    for n, row in enumerate(rows[:DECISIONS]):
        kind = ("accepted", "rejected", "not_discussed")[n % 3]
        if kind == "accepted" and row.needs_recheck:
            kind = "not_discussed"
        chosen.append((row.item_id, kind, reject_code if kind == "rejected" else None))
    return chosen


class Clock:
    """Wall and process CPU time (every thread) of one step."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def timed(fn: Callable[[], Any]) -> tuple[tuple[float, float], Any]:
    clock = Clock()
    result = fn()
    return clock.read(), result


def core_run(path: Path) -> Iterator[dict[str, Any]]:
    """The core calls each app step makes, in the same order, with no window:
    the meeting operation itself, then the reads the app shows its result
    with (``alone``: the operation by itself, as the CLI calls it).

    A generator that stops before each step (the start, each decision, the
    close, the EM page) and yields its figures so far: the app's run takes
    each core step just before its own, so both sides of a ratio meet the
    same moment of the shared machine. Run whole (the core's decisions, then
    the app's, seconds apart), a few seconds of another process's load fell
    on one side only: a decision's ratio moved between 1.5 and 3 on a quiet
    machine."""
    from triage.em.pack import WORKSTREAMS, default_pack
    from triage.em.queue import build_queue, caseworkers, deadline_rows, filter_rows, queue_rows
    from triage.meetings import operations as meetings
    from triage.store.db import open_database

    db = open_database(path)
    # As warm as the app is when its clock starts (its window has checked the
    # ranking and read its screens): modules imported, both rule packs read
    # once per process. Run first in the process, the core would otherwise
    # count those one-off costs (60-100 ms of CPU) to its meeting start.
    from triage.intel import ranking

    ranking.ensure_current(db)
    pack = default_pack()
    meetings.load_reasons()
    out: dict[str, Any] = {"alone": {}}
    yield out
    started = Clock()
    meeting_id = meetings.start_meeting(
        db, region=REGION, team=None, held_on=HELD_ON, capacity=CAPACITY, actor=EVERYONE
    )
    out["alone"]["start"] = started.read()
    with db.sessions() as session:
        rows = meetings.agenda(session, meeting_id)
        meetings.summary(session, meeting_id)
    out["start"] = started.read()
    reason = next(r for r in meetings.load_reasons() if r.code != "other")
    out["plan"] = plan(rows, reason.code)
    out["reason_key"] = reason.key
    decide_times: list[tuple[float, float]] = []
    alone: list[tuple[float, float]] = []
    out["decide"], out["alone"]["decide"] = decide_times, alone
    # Bound now: the app's run wraps meetings.decide to time its own writes.
    decide = meetings.decide
    for item_id, decision, code in out["plan"]:
        yield out
        step = Clock()
        decide(
            db,
            meeting_id=meeting_id,
            item_id=item_id,
            decision=decision,
            reason=code,
            actor=EVERYONE,
        )
        alone.append(step.read())
        with db.sessions() as session:
            meetings.agenda(session, meeting_id, item_ids=[item_id])
            meetings.summary(session, meeting_id)
        decide_times.append(step.read())
    # The lines closing changes, known from the decisions made (as the app
    # knows them from its agenda on show): the undecided and the not discussed.
    decided = {item_id: kind for item_id, kind, _code in out["plan"]}
    changed = [
        r.item_id for r in rows if decided.get(r.item_id, "not_discussed") == "not_discussed"
    ]
    yield out
    closing = Clock()
    with db.sessions() as session:
        meetings.close_preview(session, meeting_id)
    shut = Clock()
    meetings.close_meeting(db, meeting_id=meeting_id, actor=EVERYONE)
    out["alone"]["close"] = shut.read()
    with db.sessions() as session:
        meetings.agenda(session, meeting_id, item_ids=changed)
        meetings.summary(session, meeting_id)
    out["close"] = closing.read()

    def em_queue() -> Any:
        with db.transaction() as session:
            return build_queue(session, pack=pack)

    def em_page() -> None:
        """What the EM page reads to fill its tabs: the queue, its deadlines,
        each tab's rows and the caseworkers (``ui.em_view``'s read, less its
        display text)."""
        queue = em_queue()
        deadlines = deadline_rows(queue, pack=pack)
        queue_rows(queue)
        for workstream in WORKSTREAMS:
            queue_rows(queue, workstream=workstream)
        filter_rows(deadlines)
        caseworkers(queue)

    yield out
    out["em"], _ = timed(em_page)
    out["alone"]["em"], _ = timed(em_queue)
    db.close()
    yield out


def wait_for(signal: Any, action: Callable[[], Any]) -> tuple[float, float]:
    """Run ``action``, wait in an event loop until ``signal`` fires, then until
    what it changed is painted: (wall, CPU) seconds. Without the last part
    the step's repaint ran in the next step, beside its write on the writer
    thread (the two threads then took turns with the GIL: 1-3 ms of CPU more
    per decision than the same writes with nothing painting)."""
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    loop = QEventLoop()
    signal.connect(loop.quit)
    clock = Clock()
    action()
    loop.exec()
    QApplication.processEvents()  # the repaint the result asked for
    spent = clock.read()
    signal.disconnect(loop.quit)
    return spent


def settle(window: Any, quiet: float = 0.3) -> None:
    """Wait in the event loop until no background job has run for ``quiet``
    seconds (each result shown, and any read it set off done too). Idleness
    is checked after each turn of the loop: a turn that showed a result can
    itself take longer than ``quiet`` on a loaded machine, and an earlier
    version stopped then with the screen's reads still running (they were
    counted to the meeting start: 200-250 ms of CPU)."""
    from PySide6.QtCore import QEventLoop, QTimer

    quiet_since = time.perf_counter()
    while True:
        loop = QEventLoop()
        QTimer.singleShot(20, loop.quit)
        loop.exec()
        if not window.tasks.idle():
            quiet_since = time.perf_counter()
        elif time.perf_counter() - quiet_since >= quiet:
            return


def app_run(path: Path, core_steps: Iterator[dict[str, Any]]) -> dict[str, Any]:
    """The app's steps, each just after the core's same step (``core_steps``
    run one step at a time; its figures are complete when this returns)."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QMessageBox

    from triage.meetings import operations as meetings
    from triage.store.db import open_database
    from ui import identity, theme
    from ui.heartbeat import Heartbeat
    from ui.main_window import MainWindow, keep_startup_objects_out_of_full_collections

    app = QApplication.instance() or QApplication([])
    theme.apply(app)
    identity.sign_in(EVERYONE)
    window = MainWindow(open_database(path))
    window.show()
    keep_startup_objects_out_of_full_collections()  # as ui.app.main does
    view = window.show_page("meetings")
    # Before the clock starts, as a user would wait: the first screens' reads,
    # the ranking check, the meeting list and every read those set off (the
    # whole intelligence queue's ids follow its first page), waited for in the
    # event loop so each result is shown (a blocking wait let the queue's
    # second read start with the clock: 59 ms of CPU counted to the start).
    settle(window)
    beat = Heartbeat(5)
    out: dict[str, Any] = {"stall": {}}
    mode = view.mode

    core = next(core_steps)  # the core's copy opened and warmed
    core = next(core_steps)  # its meeting started
    beat.reset()
    out["start"] = wait_for(
        view.started,
        lambda: view.start(
            region=REGION, team=None, held_on=HELD_ON, attendees=[], capacity=CAPACITY
        ),
    )
    out["stall"]["start"] = beat.reset()

    keys = {
        "accepted": [Qt.Key.Key_A],
        "not_discussed": [Qt.Key.Key_N],
        "rejected": [Qt.Key.Key_R, getattr(Qt.Key, f"Key_{core['reason_key']}")],
    }
    # When each decision is committed, seen from the writer thread: the core
    # call the app makes, wrapped, so keystroke-to-stored is measured exactly.
    stored_at: list[float] = []
    core_decide = meetings.decide

    def decide_and_note(*args: Any, **kwargs: Any) -> int:
        step: int = core_decide(*args, **kwargs)
        stored_at.append(time.perf_counter())
        return step

    meetings.decide = decide_and_note  # type: ignore[assignment]
    decide_times = []
    stored_times = []
    stalls = []
    for item_id, decision, _code in core["plan"]:
        row = mode.current_row()
        if row is None or row.item_id != item_id:
            raise RuntimeError(f"the app is on another line than item {item_id}")
        stalls.append(beat.reset())  # the app's last decision
        next(core_steps)  # the core's same decision
        beat.reset()  # the core's time on the UI thread is no stall of the app
        *first, last = keys[decision]
        for key in first:
            QTest.keyClick(mode, key)
        pressed = time.perf_counter()
        decide_times.append(wait_for(mode.changed, lambda key=last: QTest.keyClick(mode, key)))
        stored_times.append(stored_at[-1] - pressed)
        stored = mode.rows[[r.item_id for r in mode.rows].index(item_id)].decision
        if stored != decision:
            raise RuntimeError(f"item {item_id}: {stored} shown, {decision} keyed")
    meetings.decide = core_decide  # type: ignore[assignment]
    out["decide"] = decide_times
    out["stored"] = stored_times
    stalls.append(beat.reset())
    out["stall"]["decide"] = max(stalls, key=lambda stall: stall.cpu)

    QMessageBox.question = lambda *_args, **_kwargs: QMessageBox.StandardButton.Yes  # type: ignore[method-assign]
    next(core_steps)  # the core's close
    beat.reset()
    out["close"] = wait_for(mode.closed, mode.close_button.click)
    out["stall"]["close"] = beat.reset()

    core = next(core_steps)  # the core's EM page: its figures are now complete
    beat.reset()
    started = Clock()
    em = window.show_page("em")
    while em.queue is None:  # built on a reader thread; wait in the event loop
        loop = QEventLoop()
        QTimer.singleShot(5, loop.quit)
        loop.exec()
    # The filled tabs' first paint belongs to the step too (as the meeting
    # steps' repaints do): the clock and the stall had stopped before it.
    QApplication.processEvents()
    out["em"] = started.read()
    out["stall"]["em"] = beat.reset()
    window.close()
    out["core"] = core
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, help="synthetic items (default: the demo database)")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    folder = Path(tempfile.mkdtemp(prefix="bench-meeting-"))
    os.environ["TRIAGE_HOME"] = str(folder / "home")
    source = folder / "source.sqlite"
    build_database(source, args.items)
    for name in ("warm.sqlite", "whole.sqlite", "core.sqlite", "app.sqlite"):
        shutil.copyfile(source, folder / name)

    # Every step once on a scratch copy first: the process's one-off first
    # uses (mapper set-up, lazy imports; 95 ms in the demo's first agenda
    # read) are then paid by neither side's steps. Before, the core's start
    # paid them and the app, run after it in the same process, did not.
    # Each side still compiles its own statements (a cache per database).
    for _step in core_run(folder / "warm.sqlite"):
        pass
    # For reference: the core's steps run whole, back to back (as this script
    # measured them before each was taken just before the app's same step).
    whole: dict[str, Any] = {}
    for whole in core_run(folder / "whole.sqlite"):  # noqa: B007 (its last figures)
        pass
    core_steps = core_run(folder / "core.sqlite")
    app = app_run(folder / "app.sqlite", core_steps)
    core = next(core_steps, None) or app["core"]

    what = "demo database" if args.items is None else f"{args.items:,} synthetic items"
    load = os.getloadavg()[0]
    print(f"{what}; agenda of {CAPACITY * 2} in {REGION}; {DECISIONS} decisions; load {load:.1f}")
    print(
        "app: click or key until the screen shows the result; core: the same core calls "
        "(op: the operation alone); CPU: the process's, every thread"
    )
    print(
        f"{'step':<31}{'app':>8}{'core':>8}{'op':>8}{'ratio':>7}"
        f"{'app CPU':>9}{'core CPU':>9}{'ratio':>7}{'UI stall CPU/wall':>19}"
    )

    def mean(pairs: list[tuple[float, float]]) -> tuple[float, float]:
        return statistics.mean(p[0] for p in pairs), statistics.mean(p[1] for p in pairs)

    steps = [
        ("start a meeting", app["start"], core["start"], core["alone"]["start"], "start"),
        (
            "decide (mean of 50 keystrokes)",
            mean(app["decide"]),
            mean(core["decide"]),
            mean(core["alone"]["decide"]),
            "decide",
        ),
        ("close the meeting", app["close"], core["close"], core["alone"]["close"], "close"),
        ("EM page after the meeting", app["em"], core["em"], core["alone"]["em"], "em"),
    ]
    meeting = ("start", "decide", "close")
    wall_ratios, cpu_ratios = {}, {}
    for label, (app_s, app_cpu), (core_s, core_cpu), (op_s, _op_cpu), key in steps:
        wall_ratios[key] = app_s / core_s
        cpu_ratios[key] = app_cpu / core_cpu
        stall = app["stall"][key]
        print(
            f"{label:<31}{app_s * 1000:>6.0f}ms{core_s * 1000:>6.0f}ms{op_s * 1000:>6.0f}ms"
            f"{app_s / core_s:>7.2f}{app_cpu * 1000:>7.0f}ms{core_cpu * 1000:>7.0f}ms"
            f"{app_cpu / core_cpu:>7.2f}{stall.cpu * 1000:>10.0f}/{stall.wall * 1000:.0f}ms"
        )
    back_to_back = {
        key: mean(whole[key])[1] if key == "decide" else whole[key][1] for key in meeting
    }
    print(
        "core run whole, back to back, before the app (CPU): "
        + ", ".join(f"{key} {back_to_back[key] * 1000:.0f}ms" for key in meeting)
        + "; app/that: "
        + ", ".join(
            f"{key} {(mean(app[key]) if key == 'decide' else app[key])[1] / back_to_back[key]:.2f}"
            for key in meeting
        )
    )
    worst = max(app["stall"].values(), key=lambda stall: stall.cpu)
    print(f"longest UI-thread stall: {worst} (goal < 50 ms)")
    shown = [wall for wall, _cpu in app["decide"]]
    print(
        f"keystroke to stored and shown: p95 {p95(shown) * 1000:.0f} ms, "
        f"worst {max(shown) * 1000:.0f} ms"
    )
    print(
        f"keystroke to stored: p95 {p95(app['stored']) * 1000:.0f} ms, "
        f"worst {max(app['stored']) * 1000:.0f} ms (goal p95 < 50 ms)"
    )
    print(
        f"EM page's first showing: app/core {cpu_ratios['em']:.2f} (CPU), "
        f"UI stall {app['stall']['em']} (its goal: under 50 ms)"
    )
    print(f"app/core wall-time ratio: {max(wall_ratios[k] for k in meeting):.2f}")
    print(f"app/core ratio: {max(cpu_ratios[k] for k in meeting):.2f}")


if __name__ == "__main__":
    main()
