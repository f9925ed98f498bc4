"""The retention policy (``rules/retention.toml``) and the purge it drives."""
