"""Running core operations off the UI thread, with one writer for the database.

Every long or writing operation is a plain function from ``triage`` run in a
``QRunnable`` with a ``triage.jobs.Job`` (the core's one progress and cancel
protocol); a ``TaskSignals`` object carries ``progress_changed`` (fraction,
message), ``finished``, ``cancelled`` (the partial result of
``triage.jobs.Cancelled``) and ``failed`` back to the UI thread. All database writes go
through ``Tasks.write``, whose pool has exactly one thread, so two writes can
never race for SQLite's lock (the pattern of Anki's single-thread taskman).
Reads that may take long (``Tasks.read``) use a second, wider pool; whole-queue
id reads (``Tasks.read_queue``) a third pool of one thread.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from triage.jobs import Cancelled, Job

log = logging.getLogger(__name__)


class TaskSignals(QObject):
    """Signals of one background job (emitted from the worker thread)."""

    progress_changed = Signal(float, str)  # fraction done (0-1), message
    finished = Signal(object)
    cancelled = Signal(object)  # what was done before the stop, or None
    failed = Signal(str)


class _Runnable(QRunnable):
    def __init__(self, fn: Callable[[Job], Any], signals: TaskSignals, job: Job) -> None:
        super().__init__()
        self.fn = fn
        self.signals = signals
        self.job = job
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            result = self.fn(self.job)
        except Cancelled as stop:
            self.signals.cancelled.emit(stop.partial)
        except Exception as error:  # reported to the user, never swallowed
            log.error("background task failed:\n%s", traceback.format_exc())
            self.signals.failed.emit(str(error) or error.__class__.__name__)
        else:
            self.signals.finished.emit(result)


class Tasks(QObject):
    """The app's two pools: one writer thread, and readers."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.writer = QThreadPool(self)
        self.writer.setMaxThreadCount(1)
        self.readers = QThreadPool(self)
        self.readers.setMaxThreadCount(2)
        # Whole-queue id reads: one at a time, as each can hold ~300 MB while a
        # million ids are sorted; a read made obsolete while queued is skipped.
        self.queue_reads = QThreadPool(self)
        self.queue_reads.setMaxThreadCount(1)
        # Keep signal objects alive until their job reports.
        self._live: set[TaskSignals] = set()

    def _start(
        self,
        pool: QThreadPool,
        fn: Callable[[Job], Any],
        on_done: Callable[[Any], None] | None,
        on_fail: Callable[[str], None] | None,
        on_progress: Callable[[float, str], None] | None,
        on_cancel: Callable[[object], None] | None = None,
    ) -> Job:
        signals = TaskSignals()
        job = Job(signals.progress_changed.emit)
        self._live.add(signals)

        def release(*_args: object) -> None:
            self._live.discard(signals)

        if on_progress:
            signals.progress_changed.connect(on_progress)
        if on_done:
            signals.finished.connect(on_done)
        if on_fail:
            signals.failed.connect(on_fail)
        if on_cancel:
            signals.cancelled.connect(on_cancel)
        elif on_fail:  # a caller that does not ask about cancels hears of one as a failure
            signals.cancelled.connect(lambda _partial: on_fail("cancelled"))
        signals.finished.connect(release)
        signals.failed.connect(release)
        signals.cancelled.connect(release)
        pool.start(_Runnable(fn, signals, job))
        return job

    def write(self, fn, on_done=None, on_fail=None, on_progress=None, on_cancel=None) -> Job:
        """Run ``fn(job)`` on the single writer thread."""
        return self._start(self.writer, fn, on_done, on_fail, on_progress, on_cancel)

    def read(self, fn, on_done=None, on_fail=None, on_progress=None, on_cancel=None) -> Job:
        """Run a read-only ``fn(job)`` on a reader thread."""
        return self._start(self.readers, fn, on_done, on_fail, on_progress, on_cancel)

    def read_queue(self, fn, on_done=None, on_fail=None) -> Job:
        """Run a whole-queue read on the one-thread queue pool."""
        return self._start(self.queue_reads, fn, on_done, on_fail, None)

    def idle(self) -> bool:
        """No job running or waiting (their last signals may still be queued)."""
        return all(
            pool.activeThreadCount() == 0 for pool in (self.writer, self.readers, self.queue_reads)
        )

    def wait(self, msecs: int = 30000) -> bool:
        """Block until every job is done (closing the app, tests)."""
        return all(
            pool.waitForDone(msecs) for pool in (self.writer, self.readers, self.queue_reads)
        )
