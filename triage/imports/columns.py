"""The canonical columns of each extract kind (shared/formats.md) and how
each cell is checked and converted.

A converter takes the stripped, non-empty cell text and returns the stored
value, or raises ValueError with a message a team leader can act on. The
message never repeats the cell (it may be personal data): the importer
names the file, line and column. Empty
cells are "not supplied" (None), never false or zero.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from triage import clock, vocab
from triage.intel import regions

Converter = Callable[[str], Any]

_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})
_GRADING = re.compile(r"^([1-3])\s*([A-E])\s*([PC])$", re.IGNORECASE)
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})$")
_ISO3 = re.compile(r"^[A-Z]{3}$")


def text(value: str) -> str:
    return value


def boolean(value: str) -> bool:
    folded = value.casefold()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise ValueError("not true/false, yes/no, y/n or 1/0")


def count(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ValueError("not a whole number") from None
    if number < 0:
        raise ValueError("a negative number")
    return number


def bucket(value: str) -> int:
    if value not in {"1", "2", "3", "4", "5", "6"}:
        raise ValueError("not a bucket 1-6")
    return int(value)


def one_of(allowed: tuple[str, ...]) -> Converter:
    table = {v.casefold(): v for v in allowed}

    def convert(value: str) -> str:
        try:
            return table[value.casefold()]
        except KeyError:
            raise ValueError(f"not one of {', '.join(allowed)}") from None

    return convert


def list_of(allowed: tuple[str, ...]) -> Converter:
    table = {v.casefold(): v for v in allowed}

    def convert(value: str) -> str | None:
        parts = [p.strip().casefold() for p in value.split(";") if p.strip()]
        unknown = [p for p in parts if p not in table]
        if unknown:
            raise ValueError(f"a value that is not allowed (allowed: {', '.join(allowed)})")
        return vocab.join_list([table[p] for p in parts])

    return convert


def grading(value: str) -> str:
    match = _GRADING.match(value)
    if not match:
        raise ValueError("not a 3x5x2 grading such as '2B P'")
    source, assessment, handling = match.groups()
    return f"{source}{assessment.upper()} {handling.upper()}"


def postcode(value: str) -> str:
    match = _POSTCODE.match(value.upper())
    if not match:
        raise ValueError("not a UK postcode")
    return f"{match.group(1)} {match.group(2)}"


def nationality(value: str) -> str:
    code = value.upper()
    if not _ISO3.match(code):
        raise ValueError("not an ISO 3166-1 alpha-3 code")
    return code


def region(value: str) -> str:
    try:
        return regions.region_code(value)
    except ValueError:
        known = ", ".join(r.code for r in regions.load_regions())
        raise ValueError(f"not a known region (known: {known})") from None


def datetime_(value: str) -> datetime:
    return clock.parse_datetime(value)


def date_(value: str) -> date:
    return clock.parse_date(value)


@dataclass(frozen=True)
class Column:
    name: str
    convert: Converter
    required: bool = False
    # The attribute it is stored in, when it differs from the column name.
    stored_as: str | None = None
    # Few distinct values (codes, flags, days): the importer memoises conversions.
    repetitive: bool = False
    # A time whose UK calendar day a store keeps beside it (Chunk.time_days):
    # worked out only for these (EM events have four time columns and none).
    uk_day: bool = False

    @property
    def attribute(self) -> str:
        return self.stored_as or self.name


@dataclass(frozen=True)
class ExtractKind:
    name: str
    key: str  # the column that identifies a row for re-imports
    columns: tuple[Column, ...]
    # Columns that identify a row together with the key (an item decides
    # once per meeting date).
    also_key: tuple[str, ...] = ()

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


INTEL = ExtractKind(
    "intel",
    "intel_id",
    (
        Column("intel_id", text, required=True),
        Column("received_at", datetime_, required=True, uk_day=True),
        Column("region", region, required=True, repetitive=True),
        Column("team", text, repetitive=True),
        Column("source_type", one_of(vocab.SOURCE_TYPES), repetitive=True),
        Column("grading", grading, repetitive=True),
        Column("subject_named", boolean, repetitive=True),
        Column("subject_ref", text),
        Column("nationality", nationality, repetitive=True),
        Column("whereabouts", one_of(vocab.WHEREABOUTS), repetitive=True),
        Column("postcode", postcode, repetitive=True),
        Column("business_name", text),
        Column("sector", lambda v: v.casefold(), repetitive=True),
        Column("persons_estimated", count, repetitive=True),
        Column("allegation", one_of(vocab.ALLEGATIONS), repetitive=True),
        Column("harm_flags", list_of(vocab.HARM_FLAGS), repetitive=True),
        Column("campaign", lambda v: v.upper(), repetitive=True),
        Column("bucket", bucket, stored_as="upstream_bucket", repetitive=True),
        Column("summary", text),
        # Extension (formats.md allows more): when Intelligence passed it on.
        Column("passed_at", datetime_),
    ),
)

EM_CASES = ExtractKind(
    "em-cases",
    "case_id",
    (
        Column("case_id", text, required=True),
        Column("person_ref", text),
        Column("region", region, repetitive=True),
        Column("nationality", nationality, repetitive=True),
        Column("harm_level", one_of(vocab.HARM_LEVELS), repetitive=True),
        Column("deportation_category", one_of(vocab.DEPORTATION_CATEGORIES), repetitive=True),
        Column("sentence_months", count, repetitive=True),  # months: a few hundred values
        Column("bail_type", one_of(vocab.BAIL_TYPES), repetitive=True),
        Column("bail_granted_at", datetime_),
        Column("held_at", one_of(vocab.HELD_AT), repetitive=True),
        Column("device", one_of(vocab.DEVICES), repetitive=True),
        Column("em_status", one_of(vocab.EM_STATUSES), repetitive=True),
        Column("fitted_at", datetime_),
        Column("last_review_at", date_, repetitive=True),
        Column("last_contact_at", datetime_),
        Column("vulnerabilities", list_of(vocab.VULNERABILITIES), repetitive=True),
        Column("gender", text, repetitive=True),
        Column("induction_status", one_of(vocab.INDUCTION_STATUSES), repetitive=True),
        # Protected characteristics: monitoring only (store.models.PROTECTED_CHARACTERISTICS).
        Column("ethnicity", text, stored_as="pc_ethnicity", repetitive=True),
        Column("religion", text, stored_as="pc_religion", repetitive=True),
        Column("sexual_orientation", text, stored_as="pc_sexual_orientation", repetitive=True),
    ),
)

EM_EVENTS = ExtractKind(
    "em-events",
    "event_id",
    (
        Column("event_id", text, required=True),
        Column("case_id", text, required=True),
        Column("event_type", one_of(vocab.EVENT_TYPES), required=True, repetitive=True),
        Column("started_at", datetime_, required=True),
        Column("ended_at", datetime_),
        Column("due_at", datetime_),
        Column("notes", text),
        # Extension: when a representation, PAP letter or JR was answered.
        Column("responded_at", datetime_),
    ),
)

OUTCOMES = ExtractKind(
    "outcomes",
    "intel_id",
    (
        Column("intel_id", text, required=True),
        Column("meeting_date", date_, required=True, repetitive=True),
        Column("decision", one_of(vocab.DECISIONS), required=True, repetitive=True),
        Column("reason", one_of(vocab.REASON_CODES), repetitive=True),
        Column("decided_by", text),
        Column("result", one_of(vocab.RESULTS), repetitive=True),
        Column("result_at", date_, repetitive=True),
    ),
    also_key=("meeting_date",),
)


def percentage(value: str) -> float:
    """0-100, with or without a % sign ('81.8' or '81.8%')."""
    try:
        number = float(value.removesuffix("%").strip())
    except ValueError:
        raise ValueError("not a percentage (a number from 0 to 100)") from None
    if not 0 <= number <= 100:
        raise ValueError("not between 0 and 100")
    return number


def month(value: str) -> date:
    """A month as 'YYYY-MM' (or any date in it): its first day."""
    try:
        return date.fromisoformat(f"{value}-01") if len(value) == 7 else clock.parse_date(value)
    except ValueError:
        raise ValueError("not a month (YYYY-MM) or a date") from None


EM_SERVICE_LEVELS = ExtractKind(
    "service-levels",
    "measure",
    (
        Column("measure", text, required=True, repetitive=True),
        Column("month", lambda v: month(v).replace(day=1), required=True, repetitive=True),
        Column("target_pct", percentage, required=True, repetitive=True),
        Column("achieved_pct", percentage, repetitive=True),
        Column("notes", text),
    ),
    also_key=("month",),
)

EM_PROCESS_ISSUES = ExtractKind(
    "process-issues",
    "issue_id",
    (
        Column("issue_id", text, required=True),
        Column("kind", one_of(vocab.PROCESS_ISSUE_KINDS), required=True, repetitive=True),
        Column("occurred_at", datetime_, required=True),
        Column("case_id", text),
        Column("notes", text),
    ),
)

KINDS: dict[str, ExtractKind] = {
    k.name: k for k in (INTEL, EM_CASES, EM_EVENTS, OUTCOMES, EM_SERVICE_LEVELS, EM_PROCESS_ISSUES)
}


def detect_kind(headers: list[str]) -> str | None:
    """The extract kind whose required columns a header has (best match), if any."""
    names = {h.strip().casefold() for h in headers}
    best: tuple[int, str] | None = None
    for kind in KINDS.values():
        if not set(kind.required) <= names:
            continue
        known = len(names & {c.name for c in kind.columns})
        if best is None or known > best[0]:
            best = (known, kind.name)
    return best[1] if best else None
