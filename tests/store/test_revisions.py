"""The schema revisions read without Alembic agree with Alembic's own."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from triage.store.db import alembic_config, head_revision, schema_revision


def test_head_revision_is_alembics_head(db):
    expected = ScriptDirectory.from_config(alembic_config(db.engine)).get_current_head()
    assert head_revision(db.engine) == expected is not None


def test_schema_revision_is_alembics_current_revision(db):
    with db.engine.connect() as connection:
        expected = MigrationContext.configure(connection).get_current_revision()
    assert schema_revision(db.engine) == expected == head_revision(db.engine)


@pytest.mark.sqlite_only("opens a database file in a fresh process")
def test_opening_a_current_database_does_not_import_alembic(db):
    code = (
        "import sys\n"
        "from triage.store.db import open_database\n"
        f"open_database({str(db.location)!r}).close()\n"
        "assert 'alembic' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_model_file_table_downgrades_and_upgrades(db):
    """0015 (harm_model_file) goes down to 0014 and up again on either backend."""
    from alembic import command
    from sqlalchemy import inspect

    config = alembic_config(db.engine)
    command.downgrade(config, "0014")
    assert schema_revision(db.engine) == "0014"
    assert "harm_model_file" not in inspect(db.engine).get_table_names()
    command.upgrade(config, "head")
    assert schema_revision(db.engine) == head_revision(db.engine)
    assert "harm_model_file" in inspect(db.engine).get_table_names()
