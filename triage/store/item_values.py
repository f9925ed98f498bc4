"""Values kept beside an intelligence item's own, computed once when it is written.

Statistics and harm scoring read these for every item on every report and
score; computed per row in SQL they were a large part of that time
(docs/benchmarks.md, issue 17.3 and 17.4). They are columns of
``intel_item`` (migration 0016), each a function of the item's own values:

- ``received_uk_day``: the UK calendar day it was received, as days since
  1970-01-01 (statistics group and age by UK days);
- ``passed_within_48h``: 1 when passed on at most 48 hours after it was
  received (to the microsecond), 0 when later, NULL without a pass-on time;
- ``sector_key``: the sector with spaces trimmed and ASCII letters in lower
  case (SQLite's ``lower(trim(...))``), the harm model's category;
- ``harm_flag_bits``: the harm flags as one bit set, bit n for
  ``vocab.HARM_FLAGS[n]`` (NULL when the flags are).

Every write path that creates an item or changes one of their inputs
(``received_at``, ``passed_at``, ``sector``, ``harm_flags``) fills them: an
``insert(IntelItem)`` that leaves them out gets them from the row's own
values (the model's column defaults, ``from_row``); the importer computes
them in its row build and on an update; copies (``db copy``, ``sync pull``,
the demo's ``copy_items``) carry them with the row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from triage import clock, vocab

COLUMNS = ("received_uk_day", "passed_within_48h", "sector_key", "harm_flag_bits")
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
PASS_ON_TARGET = timedelta(hours=48)
# SQLite's lower() changes ASCII letters only (no ICU); so does the key.
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def received_uk_day(received_at: datetime) -> int:
    """Days from 1970-01-01 to the UK date of a naive-UTC instant."""
    # Since 1848 London has been 0 to 2 hours ahead of UTC, never behind:
    # before 22:00 UTC its date is the UTC date (no time-zone look-up).
    if received_at.hour < 22 and received_at.year >= 1848:
        return received_at.toordinal() - _EPOCH_ORDINAL
    return clock.to_local(received_at).toordinal() - _EPOCH_ORDINAL


def passed_within_48h(received_at: datetime, passed_at: datetime | None) -> int | None:
    if passed_at is None:
        return None
    return 1 if passed_at - received_at <= PASS_ON_TARGET else 0


def sector_key(sector: str | None) -> str | None:
    return None if sector is None else sector.strip(" ").translate(_ASCII_LOWER)


def harm_flag_bits(harm_flags: str | None) -> int | None:
    """The bit set of a stored ';a;b;' flag list (None for None)."""
    if harm_flags is None:
        return None
    return sum(1 << bit for bit, flag in enumerate(vocab.HARM_FLAGS) if f";{flag};" in harm_flags)


def derived(values: dict[str, Any]) -> dict[str, Any]:
    """The four columns for an item's values (the inputs None when missing)."""
    received = values.get("received_at")
    if received is None:  # the table refuses the row (NOT NULL), with its own error
        return dict.fromkeys(COLUMNS)
    return {
        "received_uk_day": received_uk_day(received),
        "passed_within_48h": passed_within_48h(received, values.get("passed_at")),
        "sector_key": sector_key(values.get("sector")),
        "harm_flag_bits": harm_flag_bits(values.get("harm_flags")),
    }


def from_row(column: str) -> Callable[[Any], Any]:
    """A column default computing ``column`` from the inserted row's own
    values (SQLAlchemy calls it per row, executemany included)."""

    def default(context: Any) -> Any:
        return derived(context.get_current_parameters())[column]

    return default
