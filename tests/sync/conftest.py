"""Shared by the sync tests: a server database with a team's queue and a
region's EM caseload, and where a laptop copy goes."""

from __future__ import annotations

from datetime import date

import pytest
from em_helpers import add_case, add_event
from meeting_fixtures import add_items, standard_items

from triage.store.db import open_database

OTHER_TEAM = "London South"


@pytest.fixture
def server(tmp_path, new_database_file):
    db = open_database(new_database_file(tmp_path / "server.sqlite"))
    standard_items(db, 12)
    add_items(db, [{"intel_id": "OTHER-1", "team": OTHER_TEAM, "allegation": "other"}])
    with db.transaction() as session:
        add_case(session, "EM-1")
        add_case(session, "EM-2")
        add_case(session, "EM-NORTH", region="NE")
        add_event(session, "EV-1", "EM-1", "strap_tamper", date(2026, 11, 18))
    yield db
    db.close()


@pytest.fixture
def laptop_path(tmp_path):
    return tmp_path / "laptop" / "triage.sqlite"
