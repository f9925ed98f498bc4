"""Alembic environment: runs against the engine ``triage.store.db`` hands it."""

from __future__ import annotations

from alembic import context

from triage.store.schema import metadata

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # `alembic` command line: a scratch database to autogenerate against
    from sqlalchemy import create_engine

    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things: copy-and-move
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
