"""The CLI's progress bar: one line on stderr, on a terminal only.

``terminal_job(args)`` gives the ``triage.jobs.Job`` a command passes to a
long core operation. When stdout or stderr is not a terminal (a pipe, a
file, a test) or the output is JSON, the job reports nowhere, so scripts see
only their output.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from triage.jobs import Job

REDRAW_SECONDS = 0.1  # at most ten redraws a second


def wants_bar(args: argparse.Namespace) -> bool:
    json_output = getattr(args, "format", None) == "json" or bool(getattr(args, "json", False))
    return not json_output and sys.stdout.isatty() and sys.stderr.isatty()


class Bar:
    """A ``[#####.....]  42%  message`` line redrawn in place."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.last = 0.0
        self.drawn = False

    def draw(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        if self.drawn and fraction < 1.0 and now - self.last < REDRAW_SECONDS:
            return
        self.last, self.drawn = now, True
        width = shutil.get_terminal_size().columns
        filled = round(20 * fraction)
        line = f"[{'#' * filled}{'.' * (20 - filled)}] {fraction:4.0%}  {message}"
        self.stream.write("\r" + line[: width - 1] + "\x1b[K")
        self.stream.flush()

    def clear(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


@contextmanager
def terminal_job(args: argparse.Namespace) -> Iterator[Job]:
    """A job drawing a bar while the block runs (if ``wants_bar``), cleared after."""
    if not wants_bar(args):
        yield Job()
        return
    bar = Bar(sys.stderr)
    try:
        yield Job(bar.draw)
    finally:
        bar.clear()
