"""The rule compiler's literals survive ``sqlalchemy.text`` on both stores."""

from __future__ import annotations

from sqlalchemy import text

from triage.rules import engine


def test_a_pack_value_with_a_colon_or_quote_is_a_literal_not_a_parameter(db):
    value = "it's a:b ::c"
    with db.engine.connect() as connection:
        found = connection.execute(text(f"SELECT {engine._lit(value)}")).scalar_one()
        assert found == value
        assert connection.execute(text(f"SELECT {engine._lit(True)} = (1 = 1)")).scalar_one()
