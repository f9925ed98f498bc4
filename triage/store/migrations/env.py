"""Alembic environment: runs against the engine ``triage.store.db`` hands it."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from triage.store.schema import metadata

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # `alembic` command line: a scratch database to autogenerate against
    from sqlalchemy import create_engine

    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things: copy-and-move
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


# open_database hands over a connection holding the write lock (so that two
# processes never set up one schema at once); its caller commits.
given = config.attributes.get("connection")
if given is not None:
    run(given)
else:
    with engine.begin() as connection:
        run(connection)
