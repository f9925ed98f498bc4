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
  ``vocab.HARM_FLAGS[n]`` (NULL when the flags are);
- ``harm_codes`` (migration 0019): the harm model's small inputs as one
  integer of codes that no model decides (``HARM_CODES`` says where each
  is); a model maps them to its own encoding. NULL is always allowed: the
  harm score then computes the same codes in SQL (``harm_codes_sql``). An
  import's update, whose file may lack some inputs, has the database compute
  them from the updated row with that same SQL.

Every write path that creates an item or changes one of their inputs
(``received_at``, ``passed_at``, ``sector``, ``harm_flags``) fills them: an
``insert(IntelItem)`` that leaves them out gets them from the row's own
values (the model's column defaults, ``from_row``); the importer computes
them in its row build and on an update; copies (``db copy``, ``sync pull``,
the demo's ``copy_items``) carry them with the row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from triage import clock, vocab

COLUMNS = ("received_uk_day", "passed_within_48h", "sector_key", "harm_flag_bits", "harm_codes")
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


@dataclass(frozen=True)
class CodeField:
    """One input's code in ``harm_codes``: bits ``shift`` to ``shift + width``.

    A category's code is 0 for NULL, k for ``values[k - 1]`` and
    ``len(values) + 1`` for any other value; ``texts`` are the category
    texts the harm model gives ``values`` (``other_text`` the one it gives
    any other value, None when that is the value itself)."""

    column: str
    shift: int
    width: int
    values: tuple[Any, ...] = ()
    texts: tuple[str, ...] = ()
    other_text: str | None = None


def _layout() -> dict[str, CodeField]:
    fields: dict[str, CodeField] = {}
    shift = 0

    def add(column: str, width: int, values: tuple[Any, ...] = (), **kw: Any) -> None:
        nonlocal shift
        fields[column] = CodeField(column, shift, width, values, **kw)
        shift += width

    add("harm_flag_bits", len(vocab.HARM_FLAGS))  # the bit set itself, NULL as 0
    # The yes/no inputs, 1 for: a campaign that is not ''; a business name
    # that is not blank (spaces trimmed, as SQL's trim); an EM case.
    for column in YES_NO_COLUMNS:
        add(column, 1)
    for column, values in (
        ("source_type", vocab.SOURCE_TYPES),
        ("whereabouts", vocab.WHEREABOUTS),
        ("allegation", vocab.ALLEGATIONS),
        ("grade_intel", GRADES_INTEL),
        ("grade_handling", GRADES_HANDLING),
    ):
        # 'unknown' has a code of its own: the model reads NULL as 'unknown' too.
        known = values if "unknown" in values else (*values, "unknown")
        add(column, (len(known) + 1).bit_length(), known, texts=tuple(known))
    add("subject_named", 2, (False, True), texts=("no", "yes"))  # any true value is yes
    add("passed_within_48h", 2, (0, 1), texts=("no", "yes"), other_text="unknown")
    return fields


YES_NO_COLUMNS = ("campaign", "business_name", "em_case_id")
# The letters a grading's intelligence and handling parts take (imports.columns).
GRADES_INTEL = ("A", "B", "C", "D", "E")
GRADES_HANDLING = ("P", "C")
HARM_CODES = _layout()
HARM_CODE_INPUTS = tuple(HARM_CODES)  # the item columns the codes are computed from


def _code(field: CodeField, value: Any) -> int:
    if field.column == "harm_flag_bits":
        return int(value or 0) & ((1 << field.width) - 1)
    if field.column == "campaign":
        return int(value is not None and value != "")
    if field.column == "business_name":
        return _business_named(value)
    if field.column == "em_case_id":
        return int(value is not None)
    if value is None:
        return 0
    if field.column == "subject_named":
        return 2 if value else 1
    for k, known in enumerate(field.values, start=1):
        # A text only equals a text, as in SQL ('0' is not 0).
        if isinstance(value, str) == isinstance(known, str) and value == known:
            return k
    return len(field.values) + 1


def harm_codes(values: dict[str, Any]) -> int:
    """``harm_codes`` of an item's values (its ``harm_flag_bits`` and
    ``passed_within_48h`` included); a missing input counts as NULL."""
    return sum(_code(f, values.get(f.column)) << f.shift for f in HARM_CODES.values())


def harm_codes_column(columns: dict[str, list[Any]], rows: int) -> list[int]:
    """``harm_codes`` of many rows, given as columns (a missing input
    column: NULL in every row). Column by column, each distinct value's
    code computed once (an import's inputs repeat a few values each; a
    column of mostly distinct business names is tested per row): a Python
    call per row took 7 s of CPU for a million rows, this about 0.3 s."""
    # Imported here, not with the module: the models import this module, so
    # numpy at its top was on every start's path (the app's launch, the CLI).
    import numpy as np

    total = np.zeros(rows, dtype=np.int64)
    for column, field in HARM_CODES.items():
        values = columns.get(column)
        if values is None:
            continue  # NULL's code is 0
        distinct = set(values)
        if column == "business_name" and 2 * len(distinct) > rows:
            codes: Iterable[int] = map(_business_named, values)  # mostly distinct: per row
        else:
            known = {value: _code(field, value) for value in distinct}
            codes = map(known.__getitem__, values)
        total |= np.fromiter(codes, dtype=np.int64, count=rows) << field.shift
    return total.tolist()


def _business_named(value: str | None) -> int:
    return 0 if value is None or not value.strip(" ") else 1


def harm_codes_emptied_sql(columns: tuple[str, ...]) -> str:
    """SQL for ``harm_codes`` once ``columns`` are set to NULL (the retention
    purge): their codes become NULL's, 0; NULL stays NULL."""
    mask = (1 << 31) - 1
    for column in columns:
        if column in HARM_CODES:
            field = HARM_CODES[column]
            mask &= ~(((1 << field.width) - 1) << field.shift)
    return f"harm_codes & {mask}"


def harm_codes_sql(item: str = "") -> str:
    """SQL computing ``harm_codes`` from an item's stored columns (``item``:
    the table's alias and a dot), the same number as ``harm_codes``; on
    both stores (a shift past 31 bits on a BIGINT: PostgreSQL's integer wraps)."""
    terms = []
    for f in HARM_CODES.values():
        column = f"{item}{f.column}"
        if f.column == "harm_flag_bits":
            sql = f"coalesce({column}, 0) & {(1 << f.width) - 1}"
        elif f.column == "campaign":
            sql = f"CASE WHEN {column} IS NOT NULL AND {column} != '' THEN 1 ELSE 0 END"
        elif f.column == "business_name":
            sql = f"CASE WHEN {column} IS NOT NULL AND trim({column}) != '' THEN 1 ELSE 0 END"
        elif f.column == "em_case_id":
            sql = f"CASE WHEN {column} IS NOT NULL THEN 1 ELSE 0 END"
        elif f.column == "subject_named":
            sql = f"CASE WHEN {column} IS NULL THEN 0 WHEN {column} THEN 2 ELSE 1 END"
        else:
            whens = " ".join(
                f"WHEN {column} = {_literal(v)} THEN {k}" for k, v in enumerate(f.values, start=1)
            )
            sql = f"CASE WHEN {column} IS NULL THEN 0 {whens} ELSE {len(f.values) + 1} END"
        if f.shift + f.width > 31:
            sql = f"CAST({sql} AS BIGINT)"
        terms.append(f"(({sql}) << {f.shift})")
    return "(" + " + ".join(terms) + ")"


def _literal(value: Any) -> str:
    return str(int(value)) if isinstance(value, int) else "'" + str(value) + "'"


def derived(values: dict[str, Any]) -> dict[str, Any]:
    """The kept columns for an item's values (the inputs None when missing)."""
    received = values.get("received_at")
    if received is None:  # the table refuses the row (NOT NULL), with its own error
        return dict.fromkeys(COLUMNS)
    kept = {
        "received_uk_day": received_uk_day(received),
        "passed_within_48h": passed_within_48h(received, values.get("passed_at")),
        "sector_key": sector_key(values.get("sector")),
        "harm_flag_bits": harm_flag_bits(values.get("harm_flags")),
    }
    kept["harm_codes"] = harm_codes({**values, **kept})
    return kept


def from_row(column: str) -> Callable[[Any], Any]:
    """A column default computing ``column`` from the inserted row's own
    values (SQLAlchemy calls it per row, executemany included)."""

    def default(context: Any) -> Any:
        return derived(context.get_current_parameters())[column]

    return default
