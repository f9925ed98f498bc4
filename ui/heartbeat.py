"""How long the UI thread is kept from its event loop: a timer that beats
every few milliseconds and notes the longest gap between two beats.

Each gap is measured twice: on the wall clock (what a user feels, which on
a shared, loaded machine also counts the time the operating system gave
the core to other processes) and in the UI thread's own CPU time (the work
the app did on that thread between two beats, which the machine's load does
not inflate). The test of issue 13 and the benchmarks of issues 13 and 15
use it; nothing in the app itself does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, QTimer


@dataclass(frozen=True)
class Stall:
    """The longest gap between two beats, in seconds."""

    wall: float  # on the wall clock
    cpu: float  # of the UI thread's CPU time

    def __str__(self) -> str:
        return f"{self.cpu * 1000:.0f} ms of UI-thread CPU ({self.wall * 1000:.0f} ms wall)"


class Heartbeat(QObject):
    """Beats every ``interval_ms`` on the thread that made it (the UI thread)."""

    def __init__(self, interval_ms: int = 5, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval = interval_ms / 1000
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.beat)
        self._wall = self._cpu = 0.0
        self.worst_wall = self.worst_cpu = 0.0
        self.reset()
        self.timer.start()

    def beat(self) -> None:
        wall, cpu = time.perf_counter(), time.thread_time()
        # Less the interval: a beat on time is no stall.
        self.worst_wall = max(self.worst_wall, wall - self._wall - self.interval)
        self.worst_cpu = max(self.worst_cpu, cpu - self._cpu)
        self._wall, self._cpu = wall, cpu

    def reset(self) -> Stall:
        """The longest gap since the last reset (counting the one under way)."""
        self.beat()
        worst = Stall(max(0.0, self.worst_wall), self.worst_cpu)
        self.worst_wall = self.worst_cpu = 0.0
        return worst

    def stop(self) -> Stall:
        self.timer.stop()
        return self.reset()
