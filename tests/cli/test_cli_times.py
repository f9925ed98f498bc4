"""CLI output gives times as UK local time with the offset, in every format."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from triage.cli.common import print_rows

# Stored times are naive UTC: 09:00 UTC on 1 July is 10:00 BST.
ROW = {
    "at": datetime(2026, 7, 1, 9, 0),
    "winter": datetime(2026, 1, 5, 9, 0),
    "day": date(2026, 7, 1),
}


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_times_are_uk_local_with_their_offset(fmt, capsys):
    print_rows([ROW], fmt, list(ROW))
    out = capsys.readouterr().out
    if fmt == "json":
        printed = json.loads(out)[0]
        assert (printed["at"], printed["winter"], printed["day"]) == (
            "2026-07-01T10:00:00+01:00",
            "2026-01-05T09:00:00+00:00",
            "2026-07-01",
        )
    else:
        assert "2026-07-01T10:00:00+01:00" in out and "2026-01-05T09:00:00+00:00" in out
        assert "09:00:00+01:00" not in out
