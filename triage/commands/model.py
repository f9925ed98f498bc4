"""CLI: model commands (being built)."""

from __future__ import annotations


def register(top, groups) -> None:
    """Add this area's subcommands (none yet)."""
