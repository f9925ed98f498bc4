"""Shared fixtures: every test gets its own data folder and database."""

from __future__ import annotations

import os

# Set before anything imports Qt: tests never need a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from triage.store.db import Database, open_database


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Keep settings, databases and models of tests away from the user's."""
    home = tmp_path / "home"
    monkeypatch.setenv("TRIAGE_HOME", str(home))
    monkeypatch.delenv("TRIAGE_DB", raising=False)
    monkeypatch.setenv("TRIAGE_NOW", "2026-11-20T09:00:00")
    return home


@pytest.fixture
def db(tmp_path) -> Database:
    database = open_database(tmp_path / "test.sqlite")
    yield database
    database.close()
