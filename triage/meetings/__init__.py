"""The tasking meeting: operations on a meeting and its stored agenda."""
