"""Alembic migrations for the Triage database (batch mode for SQLite)."""
