"""Triage core: domain, database, import, rules, ranking, meetings, statistics, model.

Nothing in this package imports Qt; the desktop app in ``ui/`` and the CLI in
``triage.cli.main`` both call the plain operations defined here.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("triage")
except PackageNotFoundError:  # running from a source tree or a frozen bundle
    __version__ = "0.1.0"
