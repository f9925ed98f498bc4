-- The team server's least-privilege login (docs/team-server.md), run by the
-- database owner in the Triage database AFTER the owner's first open (which
-- made the tables), and again after each Triage upgrade that adds tables.
-- The app's login, triage_app, reads and writes rows; it cannot drop or alter
-- tables, drop or disable triggers, or rewrite the audit log.
--   psql "host=HOST dbname=triage user=triage_owner" -f team-server-grants.sql
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO triage_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO triage_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO triage_app;
-- The audit log: read and append only (its triggers refuse the rest as well).
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM triage_app;
-- The schema version: read only (upgrades are the owner's).
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM triage_app;
