"""The store: engine, schema, migrations and the audit log every write goes through."""
