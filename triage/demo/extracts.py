"""What the demo's extracts look like: their columns, file names, import order,
and how a generated wall-clock time is written as extract text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from triage import clock
from triage.imports.columns import KINDS


def _canonical(kind: str) -> tuple[str, ...]:
    return tuple(column.name for column in KINDS[kind].columns)


# The canonical columns (triage.imports.columns, i.e. formats.md) plus the extra
# columns real extracts carry, which the importer keeps in each row's raw record.
INTEL_COLUMNS = (*_canonical("intel"), "source_system", "legacy_ref")
OUTCOME_COLUMNS = _canonical("outcomes")
EM_CASE_COLUMNS = _canonical("em-cases")
EM_EVENT_COLUMNS = _canonical("em-events")
FILE_NAMES = {
    "em-cases": "em_cases.csv",
    "em-events": "em_events.csv",
    "intel": "intel_items.csv",
    "outcomes": "outcomes.csv",
}
IMPORT_ORDER = ("em-cases", "em-events", "intel", "outcomes")


def stamp(moment: datetime) -> str:
    """A generated UK wall-clock time as extract text that the importer reads
    back in the same order as the generator made them.

    The generator works in wall-clock time. A wall time in the hour skipped
    when clocks go forward does not exist (the importer quarantines it): it
    is written as the end of the gap, 02:00, the instant the clocks changed.
    One in the hour repeated when clocks go back is written with its first
    offset (+01:00). Both keep later wall times later or equal as instants.
    """
    # fold=0: the generator's wall times never mean the second of a repeated hour.
    aware = moment.replace(tzinfo=clock.LONDON, fold=0)
    if clock.to_local(aware.astimezone(UTC).replace(tzinfo=None)).hour != moment.hour:
        return (moment.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)).isoformat(
            timespec="seconds"
        )
    if aware.utcoffset() != aware.replace(fold=1).utcoffset():
        return aware.isoformat(timespec="seconds")
    return moment.isoformat(timespec="seconds")


def unstamp(text: str) -> datetime:
    """The wall-clock time ``stamp`` wrote."""
    return datetime.fromisoformat(text).replace(tzinfo=None)
