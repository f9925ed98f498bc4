"""One protocol for long core operations: progress, cancel, partial results.

A long operation takes ``job: Job | None = None``. It reports
``job.progress(fraction, message)`` (a fraction from 0 to 1 and a short
message, no personal data) and calls ``job.check()`` wherever stopping is
safe; ``check`` raises ``Cancelled`` once a front end has called
``job.cancel()`` (from any thread). ``Cancelled.partial`` carries what was
finished before the stop, or ``None`` when the operation rolled everything
back (an import, a ranking). Front ends make the ``Job`` with their own
progress callback: the app's progress widget (``ui.tasks``), the CLI's
terminal bar (``triage.cli.progress``). A step of a larger operation gets
``job.part(start, end)``: its own 0 to 1 maps onto that share of the whole,
and it shares the cancel.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

ProgressCallback = Callable[[float, str], None]

__all__ = ["Cancelled", "Job", "ProgressCallback", "job_or_silent"]


class Cancelled(Exception):
    """The operation stopped because its job was cancelled."""

    def __init__(self, message: str = "cancelled", *, partial: object = None) -> None:
        super().__init__(message)
        self.partial = partial


class Job:
    """What a running operation sees: where to report progress, whether to stop."""

    def __init__(
        self,
        on_progress: ProgressCallback | None = None,
        *,
        cancel_event: threading.Event | None = None,
        start: float = 0.0,
        end: float = 1.0,
    ) -> None:
        self._on_progress = on_progress
        self._cancel = cancel_event or threading.Event()
        self._start = start
        self._span = end - start

    def progress(self, fraction: float, message: str = "") -> None:
        """Report ``fraction`` (0 to 1, clamped) of this job done, with ``message``."""
        if self._on_progress is not None:
            share = min(1.0, max(0.0, fraction))
            self._on_progress(self._start + self._span * share, message)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self, message: str = "cancelled", *, partial: object = None) -> None:
        """Raise ``Cancelled`` (with ``partial``) if the job was cancelled."""
        if self._cancel.is_set():
            raise Cancelled(message, partial=partial)

    def part(self, start: float, end: float) -> Job:
        """A step of this job covering ``start`` to ``end`` of it; same cancel."""
        return Job(
            self._on_progress,
            cancel_event=self._cancel,
            start=self._start + self._span * start,
            end=self._start + self._span * end,
        )


def job_or_silent(job: Job | None) -> Job:
    """``job``, or one that reports nowhere and is never cancelled."""
    return job if job is not None else Job()
